#!/usr/bin/env python3
"""Writes the .npy fixtures of npy_test.cpp with numpy itself (run in this folder)."""
import numpy as np
from numpy.lib import format as F

np.save('f8_2x2.npy', np.array([[1.5, -2.25], [3.0, 1e10]], np.float64))
np.save('i8_3.npy', np.array([-5, 0, 123456789], np.int64))
np.save('i4_2x1.npy', np.array([[7], [-8]], np.int32))
np.save('u1_4.npy', np.array([0, 1, 200, 255], np.uint8))
np.save('i1_3.npy', np.array([-128, 0, 127], np.int8))
np.save('f4_scalar.npy', np.float32(-0.5))
np.save('f4_empty_0x3.npy', np.zeros((0, 3), np.float32))
with open('f4_v2.npy', 'wb') as f:
    F.write_array(f, np.arange(6, dtype=np.float32).reshape(2, 3), version=(2, 0))
with open('f4_v3.npy', 'wb') as f:
    F.write_array(f, np.array([2.5], np.float32), version=(3, 0))
np.save('f4_fortran.npy', np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
np.save('f4_bigendian.npy', np.array([1, 2], dtype='>f4'))
np.save('object.npy', np.array([1, 'a'], dtype=object), allow_pickle=True)
np.save('f2.npy', np.array([1, 2], dtype=np.float16))
