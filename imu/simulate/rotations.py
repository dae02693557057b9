"""Small vectorised rotation helpers for the simulator (matrices act on column vectors).

A frame is a ``(n, 3, 3)`` array whose columns are the body axes expressed in world coordinates,
so ``world = R @ body`` and ``body = R.T @ world``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.spatial.transform import Rotation

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "body_rate_rad_s",
    "frame_from",
    "log_rotation",
    "rot_x",
    "rotvec_to_matrix",
]


def rot_x(angle_rad: FloatArray) -> FloatArray:
    """Rotations about the x axis by ``angle_rad`` (shape ``(n,)``) → ``(n, 3, 3)``."""
    c = np.cos(angle_rad)
    s = np.sin(angle_rad)
    out = np.zeros((*np.shape(angle_rad), 3, 3))
    out[..., 0, 0] = 1.0
    out[..., 1, 1] = c
    out[..., 1, 2] = -s
    out[..., 2, 1] = s
    out[..., 2, 2] = c
    return out


def frame_from(x_axis: FloatArray, lateral: FloatArray) -> FloatArray:
    """Right-handed frames with first axis ``x_axis`` and second axis as close to ``lateral``.

    Both inputs have shape ``(n, 3)`` (``lateral`` may be ``(3,)``); ``x_axis`` is normalised,
    ``lateral`` is made orthogonal to it (Gram–Schmidt) and the third axis is ``x × y``.
    """
    x = x_axis / np.linalg.norm(x_axis, axis=-1, keepdims=True)
    lat = np.broadcast_to(lateral, x.shape)
    y = lat - np.sum(lat * x, axis=-1, keepdims=True) * x
    y = y / np.linalg.norm(y, axis=-1, keepdims=True)
    z = np.cross(x, y)
    return np.stack([x, y, z], axis=-1)


def rotvec_to_matrix(rotvec: FloatArray) -> FloatArray:
    """Rotation vectors ``(n, 3)`` (axis × angle, rad) → matrices ``(n, 3, 3)``."""
    return np.asarray(Rotation.from_rotvec(rotvec).as_matrix(), dtype=np.float64)


def log_rotation(matrix: FloatArray) -> FloatArray:
    """Rotation vector (rad) of one rotation matrix ``(3, 3)``; robust near 180°."""
    return np.asarray(Rotation.from_matrix(matrix).as_rotvec(), dtype=np.float64)


def body_rate_rad_s(frames: FloatArray, *, step_s: float) -> FloatArray:
    """Angular velocity in the body frame by central differences on a uniform grid.

    ``frames`` has shape ``(n, 3, 3)``; the result has shape ``(n - 2, 3)`` and belongs to the
    interior samples ``1 … n-2``: ``ω_k = log(R_{k-1}ᵀ R_{k+1}) / (2·step)``. The per-step angle
    is small on a fine grid, so the logarithm is taken in closed form without branch issues.
    """
    rel = np.matmul(frames[:-2].transpose(0, 2, 1), frames[2:])
    v = 0.5 * np.stack(
        [rel[:, 2, 1] - rel[:, 1, 2], rel[:, 0, 2] - rel[:, 2, 0], rel[:, 1, 0] - rel[:, 0, 1]],
        axis=-1,
    )
    sin_a = np.linalg.norm(v, axis=-1)
    cos_a = 0.5 * (np.trace(rel, axis1=1, axis2=2) - 1.0)
    angle = np.arctan2(sin_a, cos_a)
    factor = np.ones_like(angle)
    nz = sin_a > 1e-12
    factor[nz] = angle[nz] / sin_a[nz]
    return np.asarray(v * factor[:, None] / (2.0 * step_s), dtype=np.float64)
