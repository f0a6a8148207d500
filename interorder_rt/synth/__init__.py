"""Synthetic scenes with exact occlusion ground truth: persons (identities in sampled poses) and
objects painted back to front, transfer pairs, and short videos. Everything is deterministic from a seed.
"""

from interorder_rt.synth.generate import generate_scene
from interorder_rt.synth.identity import Identity, sample_identity
from interorder_rt.synth.pairs import TransferPair, make_transfer_pair
from interorder_rt.synth.person import render_person
from interorder_rt.synth.pose_prior import sample_pose
from interorder_rt.synth.scene import Instance, Layer, Scene
from interorder_rt.synth.sequence import iter_sequence, make_sequence

__all__ = ["Identity", "Instance", "Layer", "Scene", "TransferPair", "generate_scene", "iter_sequence",
           "make_sequence", "make_transfer_pair", "render_person", "sample_identity", "sample_pose"]
