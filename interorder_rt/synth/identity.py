"""A person's identity: the fixed appearance that is rendered the same in every pose."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from interorder_rt.synth.palette import HAIR_COLOURS, SKIN_TONES, Colour, jitter, random_colour
from interorder_rt.synth.seeding import pick
from interorder_rt.synth.textures import Material, sample_material

HAIR_STYLES = ("short", "long", "bald")
SLEEVES = ("none", "short", "long")
LEGWEAR = ("shorts", "trousers", "skirt")


@dataclass(frozen=True)
class Identity:
    """Appearance of one person. Pattern periods are in body units (1 = the person's height)."""

    id: int
    skin: Colour
    hair: Colour
    hair_style: str  # one of HAIR_STYLES
    upper: Material  # shirt / jacket
    sleeves: str  # one of SLEEVES
    lower: Material  # trousers, shorts or skirt
    legwear: str  # one of LEGWEAR
    shoes: Colour
    build: float  # limb and torso width factor, about 0.85 (slim) to 1.2 (broad)

    def __post_init__(self) -> None:
        for name, value, allowed in (("hair_style", self.hair_style, HAIR_STYLES),
                                     ("sleeves", self.sleeves, SLEEVES), ("legwear", self.legwear, LEGWEAR)):
            if value not in allowed:
                raise ValueError(f"Identity.{name} must be one of {allowed}, got {value!r}")
        if not 0.5 <= self.build <= 2.0:
            raise ValueError(f"Identity.build must be in [0.5, 2], got {self.build}")


def sample_identity(rng: np.random.Generator, identity_id: int) -> Identity:
    """A random identity with id ``identity_id``."""
    skin = jitter(rng, pick(rng, SKIN_TONES), 10)
    hair = jitter(rng, pick(rng, HAIR_COLOURS), 10)
    return Identity(
        id=int(identity_id),
        skin=skin,
        hair=hair,
        hair_style=pick(rng, HAIR_STYLES, (0.5, 0.38, 0.12)),
        upper=sample_material(rng, (0.025, 0.06)),
        sleeves=pick(rng, SLEEVES, (0.15, 0.45, 0.4)),
        lower=sample_material(rng, (0.03, 0.07), p_solid=0.6),
        legwear=pick(rng, LEGWEAR, (0.2, 0.6, 0.2)),
        shoes=random_colour(rng, (0.0, 0.6), (0.08, 0.6)),
        build=float(rng.uniform(0.85, 1.2)),
    )
