"""Annotation JSON, video I/O and the ``interorder`` demo / transfer / video sub-commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from interorder_rt.cli.main import main
from interorder_rt.io.annotations import (
    ImageAnnotation,
    VideoAnnotations,
    annotation_to_dict,
    load_annotation,
    parse_annotation,
    save_annotation,
)
from interorder_rt.io.atomic import atomic_imwrite
from interorder_rt.io.video import VideoWriter, read_video


def small_annotation() -> ImageAnnotation:
    masks = np.zeros((2, 20, 30), dtype=bool)
    masks[0, 2:15, 5:12] = True
    masks[1, 10:18, 8:25] = True
    keypoints = np.full((18, 2), np.nan, dtype=np.float32)
    keypoints[[1, 2, 8]] = [[8.0, 4.0], [6.5, 5.0], [7.0, 11.25]]
    return ImageAnnotation(masks, ["person", "bench"], [keypoints, None], (0,), (4, 9))


def test_annotation_json_round_trip(tmp_path):
    ann = small_annotation()
    save_annotation(tmp_path / "a.json", ann)
    back = load_annotation(tmp_path / "a.json")
    np.testing.assert_array_equal(back.masks, ann.masks)
    np.testing.assert_array_equal(back.keypoints[0], ann.keypoints[0])  # NaN == NaN here
    assert back.keypoints[1] is None
    assert (back.categories, back.person, back.instance_ids) == (ann.categories, ann.person, ann.instance_ids)
    assert json.loads((tmp_path / "a.json").read_text())["instances"][0]["keypoints"][0] is None


def test_annotation_reads_polygons_and_coco17_keypoints():
    kp17 = [0.0] * 51
    kp17[5 * 3 : 5 * 3 + 3] = [10.0, 5.0, 2]  # left shoulder
    kp17[6 * 3 : 6 * 3 + 3] = [4.0, 5.0, 2]  # right shoulder
    obj = {
        "height": 10, "width": 12,
        "instances": [{"category": "person", "segmentation": [[2, 2, 8, 2, 8, 8, 2, 8]], "keypoints": kp17}],
    }
    ann = parse_annotation(obj)
    assert ann.person == (0,)  # the only person, taken when "person" is absent
    assert ann.masks[0, 5, 5] and not ann.masks[0, 0, 0]
    np.testing.assert_allclose(ann.keypoints[0][1], [7.0, 5.0])  # neck = mid-shoulders
    np.testing.assert_allclose(ann.keypoints[0][5], [10.0, 5.0])
    assert np.isnan(ann.keypoints[0][0]).all()  # nose had v = 0


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.pop("height"), "'height'"),
        (lambda d: d["instances"][0].pop("segmentation"), "instance 0: needs a 'segmentation'"),
        (lambda d: d["instances"][0].pop("keypoints"), "instance 0 is the person but has no 'keypoints'"),
        (lambda d: d["instances"][0]["keypoints"].pop(), "18 \\[x, y\\] pairs"),
        (lambda d: d.update(person=5), "'person' must be an instance index"),
        (lambda d: d["instances"][1]["segmentation"].update(size=[3, 3]), "instance 1: bad RLE"),
        (lambda d: d["instances"][1].pop("id"), "every instance an integer 'id'"),
    ],
)
def test_annotation_errors_name_the_field(change, message):
    obj = annotation_to_dict(small_annotation())
    change(obj)
    with pytest.raises(ValueError, match=message):
        parse_annotation(obj)


def test_missing_and_corrupt_annotation_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_annotation(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_annotation(tmp_path / "bad.json")


def test_video_annotations_from_a_folder_and_from_json_lines(tmp_path):
    ann = small_annotation()
    for k in range(3):
        save_annotation(tmp_path / "frames" / f"{k:06d}.json", ann)
    (tmp_path / "all.jsonl").write_text("\n".join(json.dumps(annotation_to_dict(ann)) for _ in range(3)) + "\n")
    for source in (tmp_path / "frames", tmp_path / "all.jsonl"):
        frames = VideoAnnotations(source)
        assert len(frames) == 3
        assert all(np.array_equal(a.masks, ann.masks) for a in frames)
    with pytest.raises(FileNotFoundError):
        VideoAnnotations(tmp_path / "missing")


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_video_writer_round_trip(tmp_path, suffix):
    frames = [np.full((32, 48, 3), 40 * k, dtype=np.uint8) for k in range(5)]
    with VideoWriter(tmp_path / f"clip{suffix}", fps=10) as writer:
        for f in frames:
            writer.write(f)
    read = list(read_video(writer.path))
    assert len(read) == 5 and read[0].shape == (32, 48, 3)
    assert abs(int(read[4].mean()) - 160) < 8
    assert [p.name for p in tmp_path.iterdir()] == [writer.path.name]  # no temporary left behind


def test_video_writer_discards_a_failed_video(tmp_path):
    with pytest.raises(RuntimeError):
        with VideoWriter(tmp_path / "clip.mp4", fps=10) as writer:
            writer.write(np.zeros((16, 16, 3), np.uint8))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_video_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        list(read_video(tmp_path / "none.mp4"))
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    with pytest.raises(ValueError, match="cannot open video"):
        list(read_video(tmp_path / "junk.mp4"))
    with pytest.raises(ValueError, match=".mp4 or .gif"):
        VideoWriter(tmp_path / "x.avi", fps=10)


# --- the sub-commands, end to end on generated data -----------------------------------------------


def test_demo_writes_a_video_and_an_order_graph(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--frames", "3", "--size", "96", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "median ms" in printed and "order" in printed
    videos = [p for p in tmp_path.iterdir() if p.suffix in (".mp4", ".gif")]
    assert len(videos) == 1 and len(list(read_video(videos[0]))) == 3
    assert (tmp_path / "order_graph.png").stat().st_size > 0


def write_pair(tmp_path, size=96, seed=3):
    """A synthetic transfer pair as the image files and annotation JSON a user would give."""
    from interorder_rt.synth import make_transfer_pair

    pair = make_transfer_pair(seed, setting="objects", height=size, width=size)
    named = (("source", pair.source, pair.source_index), ("reference", pair.reference, pair.reference_index))
    for name, scene, index in named:
        atomic_imwrite(tmp_path / f"{name}.png", scene.image)
        ann = ImageAnnotation(
            scene.modal, [i.category for i in scene.instances], [i.keypoints for i in scene.instances], (index,),
            tuple(i.instance_id for i in scene.instances),
        )
        save_annotation(tmp_path / f"{name}.json", ann)
    return pair


def test_transfer_command_writes_the_merged_image(tmp_path):
    from interorder_rt.io.image import read_rgb

    pair = write_pair(tmp_path)
    args = ["transfer", "--source", str(tmp_path / "source.png"), "--source-ann", str(tmp_path / "source.json"),
            "--reference", str(tmp_path / "reference.png"), "--reference-ann", str(tmp_path / "reference.json"),
            "-o", str(tmp_path / "out.png")]
    assert main(args) == 0
    out = read_rgb(tmp_path / "out.png")
    assert out.shape == pair.reference.image.shape
    assert (out != pair.reference.image).any()


def test_transfer_command_reports_missing_and_corrupt_files(tmp_path, capsys):
    write_pair(tmp_path)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG broken")
    base = ["transfer", "--source-ann", str(tmp_path / "source.json"), "--reference", str(tmp_path / "reference.png"),
            "--reference-ann", str(tmp_path / "reference.json"), "-o", str(tmp_path / "out.png")]
    assert main([*base, "--source", str(tmp_path / "absent.png")]) == 2
    assert "image file not found" in capsys.readouterr().err
    assert main([*base, "--source", str(tmp_path / "broken.png")]) == 2
    assert "cannot decode" in capsys.readouterr().err
    assert not (tmp_path / "out.png").exists()


def test_video_command_on_a_short_clip(tmp_path):
    from interorder_rt.synth import make_sequence

    write_pair(tmp_path)
    scenes = make_sequence(1, 3, height=96, width=96)
    with VideoWriter(tmp_path / "in.mp4", fps=5) as writer:
        for scene in scenes:
            writer.write(scene.image)
    for k, scene in enumerate(scenes):
        person = next(i for i, inst in enumerate(scene.instances) if inst.category == "person")
        ann = ImageAnnotation(scene.modal, [i.category for i in scene.instances],
                              [i.keypoints for i in scene.instances], (person,),
                              tuple(i.instance_id for i in scene.instances))
        save_annotation(tmp_path / "ann" / f"{k:06d}.json", ann)
    args = ["video", "--source", str(tmp_path / "source.png"), "--source-ann", str(tmp_path / "source.json"),
            "--video", str(tmp_path / "in.mp4"), "--annotations", str(tmp_path / "ann"),
            "-o", str(tmp_path / "out.mp4"), "--no-progress"]
    assert main(args) == 0
    assert len(list(read_video(tmp_path / "out.mp4"))) == 3


def test_video_command_rejects_a_frame_count_mismatch(tmp_path, capsys):
    write_pair(tmp_path)
    with VideoWriter(tmp_path / "in.mp4", fps=5) as writer:
        for _ in range(2):
            writer.write(np.zeros((96, 96, 3), np.uint8))
    save_annotation(tmp_path / "ann" / "000000.json", load_annotation(tmp_path / "reference.json"))
    args = ["video", "--source", str(tmp_path / "source.png"), "--source-ann", str(tmp_path / "source.json"),
            "--video", str(tmp_path / "in.mp4"), "--annotations", str(tmp_path / "ann"),
            "-o", str(tmp_path / "out.mp4"), "--no-progress"]
    assert main(args) == 2
    assert "1 annotation" in capsys.readouterr().err
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize("given, expected", [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_the_command_lets_openmp_threads_sleep_unless_told_otherwise(given, expected):
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if given:
        env["OMP_WAIT_POLICY"] = given
    code = "import os, sys, interorder_rt.cli.main; print(os.environ['OMP_WAIT_POLICY'], 'torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.split() == [expected, "False"]  # set before torch is loaded, so it takes effect
