"""Full-reference image metrics for 8-bit RGB images (values in [0, 255]).

SSIM follows Wang et al. 2004: an 11 x 11 Gaussian window, sigma 1.5, C1 = (0.01 * 255)^2,
C2 = (0.03 * 255)^2, computed per channel.
"""

from __future__ import annotations

import cv2
import numpy as np

SSIM_WINDOW, SSIM_SIGMA = 11, 1.5


def _gaussian(x: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(x, (SSIM_WINDOW, SSIM_WINDOW), SSIM_SIGMA, borderType=cv2.BORDER_REFLECT)


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(H, W, C) per-pixel SSIM of two same-shape images with values in [0, 255]."""
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    a, b = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_a, mu_b = _gaussian(a), _gaussian(b)
    var_a = _gaussian(a * a) - mu_a**2
    var_b = _gaussian(b * b) - mu_b**2
    cov = _gaussian(a * b) - mu_a * mu_b
    return ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM over pixels and channels (Gaussian window, sigma 1.5)."""
    return float(ssim_map(a, b).mean())


def mask_ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """SSIM of the two images zeroed outside ``mask``, averaged over the mask's pixels."""
    if not mask.any():
        raise ValueError("mask-SSIM needs a non-empty mask")
    keep = mask[..., None]
    return float(ssim_map(a * keep, b * keep)[mask].mean())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB for 8-bit images; ``inf`` when they are identical."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def l1(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference in [0, 255]."""
    return float(np.mean(np.abs(a.astype(np.float64) - b.astype(np.float64))))
