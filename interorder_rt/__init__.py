"""interorder_rt: occlusion-aware human pose transfer (InterOrderNet) for images and live video."""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# Public names, imported on first use so that `import interorder_rt` stays light and never
# fails on a machine without a GPU or without the compiled extension.
_LAZY = {
    "build_info": "interorder_rt._ext",
    "set_num_threads": "interorder_rt._ext",
    "MaskSet": "interorder_rt.ops",
    "OrderResult": "interorder_rt.ops",
    "OrderRecovery": "interorder_rt.order_recovery",
    "ContentCompletion": "interorder_rt.completion",
    "Engine": "interorder_rt.engine",
    "Frame": "interorder_rt.frame",
    "TransferResult": "interorder_rt.result",
    "coco17_to_coco18": "interorder_rt.pose.formats",
    "mediapipe33_to_coco18": "interorder_rt.pose.formats",
    "ImageAnnotation": "interorder_rt.io.annotations",
    "load_annotation": "interorder_rt.io.annotations",
    "save_annotation": "interorder_rt.io.annotations",
    "read_rgb": "interorder_rt.io.image",
    "load_cocoa": "interorder_rt.io.cocoa",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'interorder_rt' has no attribute {name!r}")
