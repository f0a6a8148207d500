"""2-D transform fitting for the part-wise warp.

Every transform here is a (2, 3) float64 matrix ``A`` mapping *target* pixel coordinates to
*source* pixel coordinates (``A @ [x, y, 1]``): the warp samples backwards.
"""

from __future__ import annotations

import cv2
import numpy as np

# Below this ratio of singular values a set of anchor points counts as collinear.
_MIN_SPREAD_RATIO = 0.2


def _spread(points: np.ndarray) -> bool:
    """Whether the points span two dimensions well enough to pin an affine map."""
    singular = np.linalg.svd(points - points.mean(axis=0), compute_uv=False)
    return bool(singular[0] > 0 and singular[1] >= _MIN_SPREAD_RATIO * singular[0])


def fit_affine(target: np.ndarray, source: np.ndarray) -> np.ndarray | None:
    """Least-squares affine target -> source from >= 3 point pairs.

    None when either side is (near) collinear: the map would squash a band onto a line, smearing
    one row of source pixels over a whole region (a torso seen side-on moved to face the camera).
    """
    if len(target) < 3 or not (_spread(target) and _spread(source)):
        return None
    design = np.hstack([target, np.ones((len(target), 1))])
    solution, *_ = np.linalg.lstsq(design, source, rcond=None)
    return solution.T


def fit_similarity(target: np.ndarray, source: np.ndarray) -> np.ndarray | None:
    """Least-squares rotation + uniform scale + translation target -> source (Umeyama, no reflection).

    Needs >= 2 distinct target points; None otherwise.
    """
    if len(target) < 2:
        return None
    t_mean, s_mean = target.mean(axis=0), source.mean(axis=0)
    t, s = target - t_mean, source - s_mean
    t_var = (t**2).sum()
    if t_var < 1e-6:
        return None
    # Complex form: s ~ z * t with z = scale * e^{i angle}.
    tc, sc = t[:, 0] + 1j * t[:, 1], s[:, 0] + 1j * s[:, 1]
    z = (np.conj(tc) * sc).sum() / t_var
    linear = np.array([[z.real, -z.imag], [z.imag, z.real]])
    return np.hstack([linear, (s_mean - linear @ t_mean)[:, None]])


def anchored(linear: np.ndarray, target_point: np.ndarray, source_point: np.ndarray) -> np.ndarray:
    """The transform with the given (2, 2) linear part that maps ``target_point`` onto ``source_point``."""
    out = np.empty((2, 3))
    out[:, :2] = linear
    out[:, 2] = source_point - linear @ target_point
    return out


def bone_frame(start: np.ndarray, end: np.ndarray, width: float, flip: bool = False) -> np.ndarray | None:
    """Three points spanning a bone: its two joints and a point ``width`` across it at ``start``.

    ``flip`` puts the third point on the other side (a mirrored limb). None for a zero-length bone.
    """
    direction = end - start
    length = float(np.hypot(*direction))
    if length < 1.0:
        return None
    across = np.array([-direction[1], direction[0]]) / length * (-width if flip else width)
    return np.stack([start, end, start + across])


def fit_frames(target_frame: np.ndarray, source_frame: np.ndarray) -> np.ndarray:
    """The exact affine mapping three target points onto three source points."""
    return cv2.getAffineTransform(target_frame.astype(np.float32), source_frame.astype(np.float32)).astype(np.float64)
