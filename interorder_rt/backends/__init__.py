"""Inference backends for the runtime's nets, besides eager torch."""
