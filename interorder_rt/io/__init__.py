"""Reading and writing: COCOA annotations, per-image annotation JSON, video, atomic files."""
