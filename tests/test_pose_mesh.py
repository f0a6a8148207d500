"""The default pose stage, MeshWarp: rigid moves, joints that bend without tearing, missing and bad
keypoints, the head in one piece, views, the alpha the merge blends with."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from interorder_rt.compose.painter import Layer, paint
from interorder_rt.eval.pose_real import head_pieces, moved_head, significant_pieces
from interorder_rt.keypoints import INDEX
from interorder_rt.pose import MeshWarp, PoseOutput, PoseTransfer, SourcePerson
from interorder_rt.pose.parts import PARTS
from interorder_rt.synth import render_person, sample_identity, sample_pose

SIZE = 256
PARTS_INDEX = {part.name: p for p, part in enumerate(PARTS)}


def person(seed: int, size: int = SIZE, keypoints: np.ndarray | None = None):
    rng = np.random.default_rng(seed)
    identity = sample_identity(rng, seed)
    keypoints = sample_pose(rng, size, size) if keypoints is None else keypoints
    rgb, mask = render_person(identity, keypoints, size, size)
    return SourcePerson(rgb, mask, keypoints), keypoints


def straight_arms(size: int = SIZE) -> np.ndarray:
    """A front-facing pose with both arms held straight out sideways."""
    kp = np.full((18, 2), np.nan, np.float32)
    c = size / 2
    points = {
        "neck": (c, 70), "nose": (c, 48), "right_eye": (c - 5, 44), "left_eye": (c + 5, 44),
        "right_ear": (c - 11, 47), "left_ear": (c + 11, 47),
        "right_shoulder": (c - 22, 72), "left_shoulder": (c + 22, 72),
        "right_elbow": (c - 58, 74), "left_elbow": (c + 58, 74), "right_wrist": (c - 92, 76), "left_wrist": (c + 92, 76),
        "right_hip": (c - 14, 140), "left_hip": (c + 14, 140), "right_knee": (c - 16, 185),
        "left_knee": (c + 16, 185), "right_ankle": (c - 17, 230), "left_ankle": (c + 17, 230),
    }
    for name, xy in points.items():
        kp[INDEX[name]] = xy
    return kp


def similarity(keypoints: np.ndarray, angle: float, scale: float, shift) -> tuple[np.ndarray, np.ndarray]:
    matrix = cv2.getRotationMatrix2D((SIZE / 2, SIZE / 2), angle, scale)
    matrix[:, 2] += shift
    moved = keypoints @ matrix[:, :2].T.astype(np.float32) + matrix[:, 2].astype(np.float32)
    return moved.astype(np.float32), matrix


@pytest.mark.parametrize("angle, scale, shift", [(0, 1.0, (0, 0)), (0, 1.0, (23, -17)), (0, 0.7, (10, 30)),
                                                 (25, 1.0, (0, 0)), (-40, 1.2, (-15, 5))])
def test_a_rigid_move_of_the_whole_pose_moves_the_person_exactly(angle, scale, shift):
    source, a = person(0)
    target, matrix = similarity(a, angle, scale, shift)
    out = MeshWarp()(source, target, (SIZE, SIZE))
    truth_mask = cv2.warpAffine(source.mask.view(np.uint8) * 255, matrix, (SIZE, SIZE)) >= 128
    truth_rgb = cv2.warpAffine(source.image, matrix, (SIZE, SIZE), flags=cv2.INTER_LINEAR)
    half = out.alpha >= 128  # the silhouette at half coverage, as the truth's at half intensity
    assert (half & truth_mask).sum() / (half | truth_mask).sum() > 0.975
    inner = cv2.erode(truth_mask.view(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert np.abs(out.rgb[inner].astype(int) - truth_rgb[inner]).mean() < 4.0
    assert significant_pieces(out.mask) == significant_pieces(source.mask)


def test_a_bent_elbow_keeps_the_arm_in_one_piece():
    source, a = person(1, keypoints=straight_arms())
    for elbow_turn in (60, 90, 130):
        b = a.copy()
        elbow, shoulder = a[INDEX["right_elbow"]], a[INDEX["right_shoulder"]]
        forearm = a[INDEX["right_wrist"]] - elbow
        t = np.deg2rad(elbow_turn)
        b[INDEX["right_wrist"]] = elbow + np.float32([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]) @ forearm
        warp = MeshWarp()
        out = warp(source, b, (SIZE, SIZE))
        assert significant_pieces(out.mask) == 1
        raster, x0, y0, parts = warp.last_raster
        layer = np.where(raster.owner >= 0, parts[np.maximum(raster.owner, 0)], -1)
        arm = np.isin(layer, [p for p, part in enumerate(PARTS) if part.name.startswith("right_") and "arm" in part.name])
        assert significant_pieces(arm) == 1, f"arm torn at an elbow turn of {elbow_turn} degrees"
        assert np.hypot(*(shoulder - b[INDEX["right_shoulder"]])) == 0


def test_the_head_is_never_split():
    rng = np.random.default_rng(5)
    for seed in range(12):
        source, _ = person(seed)
        target = sample_pose(rng, SIZE, SIZE)
        assert head_pieces(moved_head(MeshWarp(), source, target)) == 1


@pytest.mark.parametrize("missing", [("left_elbow", "left_wrist"), ("right_knee", "right_ankle"), ("nose", "right_eye",
                                     "left_eye", "right_ear", "left_ear"), ("left_hip",)])
def test_missing_keypoints_in_the_target_or_the_source_do_not_crash(missing):
    source, a = person(2)
    b = sample_pose(np.random.default_rng(3), SIZE, SIZE)
    b[[INDEX[n] for n in missing]] = np.nan
    out = MeshWarp()(source, b, (SIZE, SIZE))
    assert out.mask.any() and significant_pieces(out.mask) >= 1
    a_missing = a.copy()
    a_missing[[INDEX[n] for n in missing]] = np.nan
    out = MeshWarp()(SourcePerson(source.image, source.mask, a_missing), b, (SIZE, SIZE))
    assert out.mask.any()


def test_a_target_missing_a_forearm_keeps_it_on_its_upper_arm():
    source, a = person(4, keypoints=straight_arms())
    b = a.copy()
    b[INDEX["left_wrist"]] = np.nan
    out = MeshWarp()(source, b, (SIZE, SIZE))
    assert significant_pieces(out.mask) == 1
    assert out.mask[76, int(a[INDEX["left_wrist"], 0]) - 3]  # the forearm still hangs straight out


def test_bad_target_keypoints_get_a_clear_error_or_a_bounded_answer():
    source, a = person(3)
    warp = MeshWarp()
    with pytest.raises(ValueError, match="neck"):
        warp(source, np.where(np.arange(18)[:, None] == INDEX["neck"], np.nan, a), (SIZE, SIZE))
    with pytest.raises(ValueError, match="shape"):
        warp(source, a[:17], (SIZE, SIZE))
    with pytest.raises(ValueError, match="infinite"):
        warp(source, np.where(np.arange(18)[:, None] == 3, np.inf, a), (SIZE, SIZE))
    # Entirely outside the frame: nothing is drawn.
    out = warp(source, a + 5000, (SIZE, SIZE))
    assert not out.mask.any() and not out.rgb.any() and not out.alpha.any()
    # Every keypoint on one point: the person shrinks to that point (or the pose is refused).
    try:
        out = warp(source, np.full((18, 2), 100, np.float32), (SIZE, SIZE))
    except ValueError as err:
        assert "keypoints" in str(err)
    else:
        assert out.mask.sum() < 0.01 * SIZE * SIZE
    # Huge poses stay bounded by the frame.
    out = warp(source, (a - SIZE / 2) * 40 + SIZE / 2, (64, 48))
    assert out.mask.shape == (64, 48)


def test_output_is_the_protocol_pair_with_alpha_and_views():
    source, a = person(6)
    warp = MeshWarp()
    assert isinstance(warp, PoseTransfer)
    out = warp(source, sample_pose(np.random.default_rng(1), SIZE, SIZE), (SIZE, SIZE))
    rgb, mask = out
    assert isinstance(out, PoseOutput) and len(out) == 2 and rgb.dtype == np.uint8 and mask.dtype == np.bool_
    assert out.alpha.dtype == np.uint8 and ((out.alpha > 0) == mask).all()
    assert 0 < (out.alpha[mask] < 255).mean() < 0.3  # a soft edge, a solid inside
    assert out.views.source in ("front", "back", "left", "right")
    assert warp.rig(source) is warp.rig(source)  # built once per source person


def test_a_back_view_target_gets_no_face():
    source, a = person(7, keypoints=straight_arms())
    b = a.copy()
    b[[INDEX[n] for n in ("nose", "right_eye", "left_eye")]] = np.nan
    b[[INDEX["right_shoulder"], INDEX["left_shoulder"]]] = b[[INDEX["left_shoulder"], INDEX["right_shoulder"]]]
    out = MeshWarp()(source, b, (SIZE, SIZE))
    assert out.views.target == "back" and "no face" in out.views.note
    same = MeshWarp()(source, a, (SIZE, SIZE))
    assert same.views.agree


def test_the_merge_blends_the_edge_by_alpha():
    base = np.zeros((4, 4, 3), np.uint8)
    rgb = np.full((4, 4, 3), 200, np.uint8)
    alpha = np.array([[0, 64, 128, 255]] * 4, np.uint8)
    out, owner = paint(base, [Layer(rgb, alpha > 0, alpha)])
    np.testing.assert_array_equal(out[0, :, 0], [0, 50, 100, 200])
    np.testing.assert_array_equal(owner[0], [-1, 0, 0, 0])
    plain, _ = paint(base, [Layer(rgb, alpha > 0)])
    np.testing.assert_array_equal(plain[0, :, 0], [0, 200, 200, 200])


def side_view_pointing(size: int = SIZE) -> np.ndarray:
    """Facing image right: the right arm points forward, the far (left) arm hangs behind the trunk
    and the far leg stands behind the near one."""
    kp = np.full((18, 2), np.nan, np.float32)
    c = size / 2
    points = {
        "neck": (c, 70), "nose": (c + 18, 50), "right_eye": (c + 14, 44), "right_ear": (c + 2, 48),
        "right_shoulder": (c - 3, 74), "left_shoulder": (c + 4, 75),
        "right_elbow": (c + 40, 72), "right_wrist": (c + 80, 70),
        "left_elbow": (c + 6, 108), "left_wrist": (c + 10, 138),
        "right_hip": (c - 4, 140), "left_hip": (c + 3, 140), "right_knee": (c - 6, 185),
        "left_knee": (c + 1, 185), "right_ankle": (c - 8, 230), "left_ankle": (c - 1, 230),
    }
    for name, xy in points.items():
        kp[INDEX[name]] = xy
    return kp


def test_a_far_arm_behind_the_trunk_leaves_the_trunk_its_pixels():
    from interorder_rt.pose.mesh import build_mesh

    source, keypoints = person(3, keypoints=side_view_pointing())
    mesh = build_mesh(source)
    x0, y0 = mesh.origin
    torso, far_upper_arm = PARTS_INDEX["torso"] + 1, PARTS_INDEX["left_upper_arm"] + 1
    along = np.linspace(keypoints[INDEX["left_shoulder"]] + [0, 8], keypoints[INDEX["left_elbow"]], 12)
    labels = mesh.labels[np.round(along[:, 1] - y0).astype(int), np.round(along[:, 0] - x0).astype(int)]
    assert (labels == torso).all()
    assert far_upper_arm - 1 in mesh.triangle_part  # its layer: the trunk's pixels along its bone


def test_a_side_view_person_moved_to_face_the_camera_keeps_a_whole_trunk():
    source, _ = person(3, keypoints=side_view_pointing())
    target = straight_arms()
    out = MeshWarp()(source, target, (SIZE, SIZE))
    neck, hips = target[INDEX["neck"]], (target[INDEX["right_hip"]] + target[INDEX["left_hip"]]) / 2
    for t in np.linspace(0.2, 0.8, 7):  # the spine is covered and the trunk is wider than a side view
        x, y = np.round(neck + t * (hips - neck)).astype(int)
        row = out.mask[y]
        assert row[x] and row[x - 12 : x + 13].all()


def test_raising_the_near_arm_of_a_side_view_leaves_the_trunk_in_place():
    """From the side the shoulder lies inside the trunk's outline: the chest beyond the shoulder's
    joint radius must not follow the arm (before, the torso's copies out to twice that radius were
    dragged along, tearing the back)."""
    from interorder_rt.pose.mesh import build_mesh
    from interorder_rt.pose.skeleton import body_scale
    from interorder_rt.pose.skinning import JOINT_RADIUS

    source, keypoints = person(3, keypoints=side_view_pointing())
    raised = keypoints.copy()
    shoulder = keypoints[INDEX["right_shoulder"]]
    for joint, reach in (("right_elbow", 40), ("right_wrist", 80)):
        raised[INDEX[joint]] = shoulder + [0.3 * reach, -reach]
    warp = MeshWarp()
    still, moved = warp(source, keypoints, (SIZE, SIZE)), warp(source, raised, (SIZE, SIZE))
    mesh = build_mesh(source)
    x0, y0 = mesh.origin
    h, w = mesh.labels.shape
    torso = np.zeros((SIZE, SIZE), bool)
    torso[y0 : y0 + h, x0 : x0 + w] = mesh.labels == PARTS_INDEX["torso"] + 1
    arms = np.zeros((SIZE, SIZE), np.uint8)
    for out in (still, moved):  # where an arm lies in either output, the trunk may be hidden
        arms |= ((out.alpha > 0) & ~torso).astype(np.uint8)
    ys, xs = np.mgrid[:SIZE, :SIZE]
    beyond = np.hypot(xs - shoulder[0], ys - shoulder[1]) > JOINT_RADIUS * body_scale(keypoints)
    clear = torso & beyond & ~(cv2.dilate(arms, np.ones((7, 7), np.uint8)) > 0)
    clear &= (still.alpha == 255) & (moved.alpha == 255)
    assert clear.sum() > 500
    changed = np.abs(still.rgb.astype(int) - moved.rgb.astype(int)).max(axis=2) > 8
    assert changed[clear].mean() < 0.005


def _torso_shown(warp: MeshWarp, source: SourcePerson, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The output's rgb and where the torso's layer shows in it."""
    out = warp(source, target, (SIZE, SIZE))
    raster, x0, y0, part = warp.last_raster
    shown = np.zeros((SIZE, SIZE), bool)
    h, w = raster.owner.shape
    shown[y0 : y0 + h, x0 : x0 + w] = (raster.owner >= 0) & (part[np.maximum(raster.owner, 0)] == PARTS_INDEX["torso"])
    return out.rgb, shown


def test_a_front_view_moved_into_a_side_view_keeps_its_chest_whatever_the_arm_does():
    """The target's view counts too: seen from the side, the trunk beyond the shoulder's joint
    radius is the same whether the near arm points forward or up (before, a front-view source's
    chest followed its arm there)."""
    from interorder_rt.pose.skeleton import body_scale
    from interorder_rt.pose.skinning import JOINT_RADIUS

    source, _ = person(3, keypoints=straight_arms())
    forward = side_view_pointing()
    shoulder = forward[INDEX["right_shoulder"]]
    up = forward.copy()
    up[INDEX["right_elbow"]], up[INDEX["right_wrist"]] = shoulder + [12, -38], shoulder + [24, -76]
    warp = MeshWarp()
    (a, torso_a), (b, torso_b) = _torso_shown(warp, source, forward), _torso_shown(warp, source, up)
    ys, xs = np.mgrid[:SIZE, :SIZE]
    beyond = np.hypot(xs - shoulder[0], ys - shoulder[1]) > JOINT_RADIUS * body_scale(forward)
    both = torso_a & torso_b & beyond
    assert both.sum() > 500
    changed = np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 8
    assert changed[both].mean() < 0.005


def _run_width(mask: np.ndarray, x: int, y: int) -> int:
    """The width of the run of mask pixels through (x, y) along its row."""
    row = mask[y]
    left = right = x
    while left > 0 and row[left - 1]:
        left -= 1
    while right < len(row) - 1 and row[right + 1]:
        right += 1
    return right - left + 1 if row[x] else 0


def test_a_side_view_near_leg_moved_to_face_the_camera_keeps_its_whole_width():
    """Two legs overlapping from the side split their pixels between them; the near one, which
    shows whole, keeps the far one's pixels within its reach, so with the legs apart facing the
    camera it is as wide as the far one (which borrows the near one's width; before: narrower)."""
    source, _ = person(3, keypoints=side_view_pointing())
    target = straight_arms()
    for side, sign in (("right", -1), ("left", 1)):  # legs apart
        for joint, dx in (("knee", 14), ("ankle", 28)):
            target[INDEX[f"{side}_{joint}"], 0] += sign * dx
    out = MeshWarp()(source, target, (SIZE, SIZE))
    widths = {}
    for side in ("right", "left"):  # the right leg is the near one (side_view_pointing)
        x, y = np.round((target[INDEX[f"{side}_knee"]] + target[INDEX[f"{side}_ankle"]]) / 2).astype(int)
        widths[side] = _run_width(out.mask, x, y)
    assert widths["left"] > 0 and widths["right"] >= 0.9 * widths["left"]


def test_a_pose_output_held_in_its_box_reads_as_whole_frame_planes():
    from interorder_rt.pose.output import PoseOutput

    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) + 1
    alpha = np.array([[255, 0, 128], [1, 255, 0]], np.uint8)
    out = PoseOutput.in_box((5, 6), (2, 1, 5, 3), rgb, alpha)
    full_rgb, full_mask = out
    assert full_rgb.shape == (5, 6, 3) and full_mask.shape == (5, 6) and out.alpha.shape == (5, 6)
    assert (full_rgb[1:3, 2:5] == rgb).all() and full_rgb.sum() == rgb.sum()
    assert (full_mask[1:3, 2:5] == (alpha > 0)).all() and full_mask.sum() == (alpha > 0).sum()
    assert out[0] is full_rgb and out.box == (2, 1, 5, 3)
    crop_rgb, crop_mask, crop_alpha = out.crop
    assert crop_rgb is rgb and crop_alpha is alpha and (crop_mask == (alpha > 0)).all()


def test_a_side_view_with_its_hips_apart_is_not_stretched_by_an_affine_fit():
    """Shoulders collapsed, hips apart (a side view turning, or seated): the trunk's keypoints are
    not collinear, but an affine fit of them would stretch the shoulders' few pixels across the
    target's shoulder span, over the whole torso; the side-on map widens it to that span only."""
    kp = side_view_pointing()
    for joint in ("hip", "knee", "ankle"):
        kp[INDEX[f"right_{joint}"], 0] -= 8
        kp[INDEX[f"left_{joint}"], 0] += 8
    source, _ = person(3, keypoints=kp)
    target = straight_arms()
    out = MeshWarp()(source, target, (SIZE, SIZE))
    neck, hips = target[INDEX["neck"]], (target[INDEX["right_hip"]] + target[INDEX["left_hip"]]) / 2
    span = target[INDEX["left_shoulder"], 0] - target[INDEX["right_shoulder"], 0]
    for t in (0.4, 0.6):
        x, y = np.round(neck + t * (hips - neck)).astype(int)
        assert span <= _run_width(out.mask, x, y) <= 1.25 * span


def test_a_forearm_raised_in_front_of_the_face_moves_with_the_arm_not_the_head():
    """The forearm's outline vertices are shared with the head's layer there; only the torso's
    copies of the head's vertices follow the head (the neck), so the forearm is not torn between
    the head and the hand into a fan (before: triangles stretched 50 times)."""
    from interorder_rt.pose.mesh_warp import moved_copies
    from interorder_rt.pose.skeleton import body_scale

    kp = side_view_pointing()
    shoulder = kp[INDEX["right_shoulder"]]
    kp[INDEX["right_elbow"]], kp[INDEX["right_wrist"]] = shoulder + [14, -14], kp[INDEX["nose"]] + [2, 4]
    source, _ = person(3, keypoints=kp)
    target = straight_arms()
    warp = MeshWarp()
    rig = warp.rig(source)
    moved, mesh = moved_copies(rig, source.keypoints, target), rig.mesh
    triangles = mesh.triangles[mesh.triangle_part == PARTS_INDEX["right_forearm"]]

    def longest_edge(points: np.ndarray) -> np.ndarray:
        return np.max([np.hypot(*(points[triangles[:, k]] - points[triangles[:, (k + 1) % 3]]).T) for k in range(3)],
                      axis=0)

    stretch = longest_edge(moved) / np.maximum(longest_edge(rig.points), 1e-6)
    assert stretch.max() <= 3 * body_scale(target) / body_scale(kp)
    assert significant_pieces(warp(source, target, (SIZE, SIZE)).mask) == 1


REAL_COCO = Path(__file__).resolve().parents[1] / ".." / "shared" / "real" / "coco" / "test_coco.json"


@pytest.mark.skipif(not REAL_COCO.is_file(), reason="../shared/real is absent")
def test_a_head_whose_neck_an_arm_hides_stays_joined_to_the_trunk():
    """The batter holds his arms up past his chin: no pixel of his neck shows. Moved into the
    seated man's pose, the arms go down; the torso's layer holds the pixels over the neck, so the
    helmet stays on the shoulders (with only the torso's copies following the head, it came off)."""
    from interorder_rt.eval.pose_people import load_people

    people = {p.name: p for p in load_people(REAL_COCO)}
    batter, seated = people["196141#460541"], people["40083#198196"]
    out = MeshWarp()(batter.source(), seated.keypoints, seated.mask.shape)
    assert significant_pieces(out.mask) == 1
    assert head_pieces(moved_head(MeshWarp(), batter.source(), seated.keypoints)) == 1
