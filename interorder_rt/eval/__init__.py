"""Evaluation: order metrics, heuristic baselines, completion and transfer quality."""
