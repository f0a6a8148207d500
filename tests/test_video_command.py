"""``interorder video`` end to end: a 720p MP4 through a provider plugin, a file:// URL input, and
bad frames that are passed through or skipped while the rest of the video is written."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from interorder_rt.cli.main import main
from interorder_rt.cli.video import latency_overlay
from interorder_rt.io.annotations import ImageAnnotation, save_annotation
from interorder_rt.io.video import VideoSource, VideoWriter, read_video
from interorder_rt.result import StageTimings
from interorder_rt.synth import iter_sequence, make_sequence
from test_cli import write_pair

SEED = 5
PLUGIN = '''
"""A provider plugin: "segments" each frame by drawing the same synthetic clip again, instance
order shuffled and without ids, and hands the masks and keypoints to Frame.from_masks."""
import numpy as np
from interorder_rt.frame import Frame
from interorder_rt.synth import iter_sequence

_scenes = iter_sequence({seed}, {frames}, height={height}, width={width})
_rng = np.random.default_rng(0)
_calls = 0


def frame(image):
    global _calls
    _calls += 1
    scene = next(_scenes)
    if _calls == {fail_at}:
        raise RuntimeError("the segmenter crashed on this frame")
    order = _rng.permutation(scene.n)
    keypoints = [scene.instances[k].keypoints for k in order]
    categories = [scene.instances[k].category for k in order]
    return Frame.from_masks(image, scene.modal[order], keypoints=keypoints, categories=categories, target="{target}")
'''


def write_clip(path, frames: int, height: int, width: int) -> list[np.ndarray]:
    images = [scene.image for scene in iter_sequence(SEED, frames, height=height, width=width)]
    with VideoWriter(path, fps=10) as writer:
        for image in images:
            writer.write(image)
    return images


def source_args(tmp_path) -> list[str]:
    write_pair(tmp_path, size=256)
    return ["video", "--source", str(tmp_path / "source.png"), "--source-ann", str(tmp_path / "source.json")]


def test_a_720p_clip_through_a_provider_plugin(tmp_path, capsys):
    frames, height, width = 6, 720, 1280
    images = write_clip(tmp_path / "in.mp4", frames, height, width)
    plugin = tmp_path / "segmenter.py"
    plugin.write_text(PLUGIN.format(seed=SEED, frames=frames, height=height, width=width, fail_at=-1,
                                  target="all"))
    args = [*source_args(tmp_path), "--video", str(tmp_path / "in.mp4"), "--provider", f"{plugin}:frame",
            "-o", str(tmp_path / "out.mp4"), "--follow", "--overlay", "--no-progress"]
    assert main(args) == 0
    out = list(read_video(tmp_path / "out.mp4"))
    assert len(out) == frames and out[0].shape == (height, width, 3)
    changed = [np.abs(o[60:].astype(int) - i[60:].astype(int)).mean() for o, i in zip(out, images)]
    assert min(changed) > 0.5  # the person is replaced in every frame (the overlay's band left out)
    printed = capsys.readouterr().out
    assert re.search(r"6 frames \(0 passed through, 0 skipped\), median \d+ ms per frame; \d+\.\d frames/s", printed)


def test_a_frame_the_provider_fails_on_is_passed_through(tmp_path, capsys, caplog):
    frames, size = 4, 128
    write_clip(tmp_path / "in.mp4", frames, size, size)
    plugin = tmp_path / "segmenter.py"
    plugin.write_text(PLUGIN.format(seed=SEED, frames=frames, height=size, width=size, fail_at=2, target="largest"))
    args = [*source_args(tmp_path), "--video", str(tmp_path / "in.mp4"), "--provider", f"{plugin}:frame",
            "-o", str(tmp_path / "out.mp4"), "--no-progress"]
    assert main(args) == 0
    out = list(read_video(tmp_path / "out.mp4"))
    assert len(out) == frames
    decoded = list(read_video(tmp_path / "in.mp4"))
    diff = [np.abs(o.astype(int) - i.astype(int)).mean() for o, i in zip(out, decoded)]
    assert diff[1] < 3 and min(diff[0], diff[2], diff[3]) > 2 * diff[1]  # unchanged, up to re-encoding
    assert "frame 1: RuntimeError: the segmenter crashed on this frame; passed through unchanged" in caplog.text
    assert "4 frames (1 passed through, 0 skipped)" in capsys.readouterr().out


def write_annotations(folder, scenes) -> None:
    for k, scene in enumerate(scenes):
        person = next(i for i, inst in enumerate(scene.instances) if inst.category == "person")
        ann = ImageAnnotation(scene.modal, [i.category for i in scene.instances],
                              [i.keypoints for i in scene.instances], (person,), None)
        save_annotation(folder / f"{k:06d}.json", ann)


def annotated_clip(tmp_path) -> None:
    """A 3-frame 96 x 96 clip, ``in.mp4``, with its annotations in ``ann/`` (no instance ids)."""
    scenes = make_sequence(1, 3, height=96, width=96)
    with VideoWriter(tmp_path / "in.mp4", fps=5) as writer:
        for scene in scenes:
            writer.write(scene.image)
    write_annotations(tmp_path / "ann", scenes)


@pytest.mark.parametrize("policy, kept", [("pass", 3), ("skip", 2)])
def test_a_corrupt_annotation_file_is_named_and_the_rest_written(tmp_path, caplog, policy, kept):
    annotated_clip(tmp_path)
    broken = tmp_path / "ann" / "000001.json"
    broken.write_text("{ not json")
    url = (tmp_path / "in.mp4").as_uri()  # the stream-URL input path, on a local file:// URL
    args = [*source_args(tmp_path), "--video", url, "--annotations", str(tmp_path / "ann"),
            "-o", str(tmp_path / "out.mp4"), "--on-error", policy, "--no-progress"]
    assert main(args) == 0
    assert len(list(read_video(tmp_path / "out.mp4"))) == kept
    assert f"frame 1 ({broken}): ValueError:" in caplog.text and "not valid JSON" in caplog.text


def test_an_annotation_sized_unlike_the_video_is_refused_before_decoding(tmp_path, caplog):
    annotated_clip(tmp_path)
    huge = tmp_path / "ann" / "000002.json"
    data = json.loads(huge.read_text())
    data["height"] = data["width"] = 30000  # decoding its masks first would take 900 MB a mask
    huge.write_text(json.dumps(data))
    args = [*source_args(tmp_path), "--video", str(tmp_path / "in.mp4"), "--annotations", str(tmp_path / "ann"),
            "-o", str(tmp_path / "out.mp4"), "--no-progress"]
    assert main(args) == 0
    assert len(list(read_video(tmp_path / "out.mp4"))) == 3
    assert f"frame 2 ({huge}): ValueError" in caplog.text and "96" in caplog.text


def test_max_frames_stops_early_without_a_count_mismatch(tmp_path, capsys):
    annotated_clip(tmp_path)
    args = [*source_args(tmp_path), "--video", str(tmp_path / "in.mp4"), "--annotations", str(tmp_path / "ann"),
            "-o", str(tmp_path / "out.mp4"), "--max-frames", "2", "--no-progress"]
    assert main(args) == 0
    assert len(list(read_video(tmp_path / "out.mp4"))) == 2
    assert "2 frames (0 passed through, 0 skipped)" in capsys.readouterr().out


def test_on_error_raise_stops_but_keeps_the_frames_written(tmp_path, capsys):
    annotated_clip(tmp_path)
    (tmp_path / "ann" / "000002.json").write_text("[]")
    args = [*source_args(tmp_path), "--video", str(tmp_path / "in.mp4"), "--annotations", str(tmp_path / "ann"),
            "-o", str(tmp_path / "out.mp4"), "--on-error", "raise", "--no-progress"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "frame 2 (" in err and "000002.json" in err and "expected a JSON object" in err
    assert len(list(read_video(tmp_path / "out.mp4"))) == 2


def test_video_sources_say_what_they_cannot_open(tmp_path):
    with pytest.raises(ValueError, match="cannot open stream file:///nowhere"):
        VideoSource("file:///nowhere.mp4")
    with pytest.raises(ValueError, match="cannot open camera 97"):
        VideoSource("97")
    with pytest.raises(FileNotFoundError, match="video file not found"):
        VideoSource(tmp_path / "none.mp4")


def test_provider_and_output_arguments_are_checked(tmp_path, capsys):
    write_clip(tmp_path / "in.mp4", 1, 64, 64)
    base = [*source_args(tmp_path), "--video", str(tmp_path / "in.mp4")]
    assert main([*base, "--provider", "no_such_module_xyz:frame", "-o", str(tmp_path / "o.mp4")]) == 2
    assert "cannot import 'no_such_module_xyz'" in capsys.readouterr().err
    assert main([*base, "--provider", "json", "-o", str(tmp_path / "o.mp4")]) == 2
    assert "--provider must be module:function" in capsys.readouterr().err
    assert main([*base, "--provider", "json:nothing_here", "-o", str(tmp_path / "o.mp4")]) == 2
    assert "json has no callable 'nothing_here'" in capsys.readouterr().err
    assert main([*base, "--provider", "json:loads"]) == 2
    assert "give an output file (-o OUT), a live window (--show), or both" in capsys.readouterr().err


def test_the_latency_overlay_writes_only_its_corner():
    image = np.full((720, 1280, 3), 128, np.uint8)
    timings = StageTimings(order=12.0, pose=3.0, completion=20.0, merge=1.0, total=36.0)
    out = latency_overlay(image, timings, 27.5)
    changed = np.nonzero((out != image).any(axis=2))
    assert changed[0].size and changed[0].max() < 60 and changed[1].max() < 1280
    np.testing.assert_array_equal(out[60:], image[60:])
