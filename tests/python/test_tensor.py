"""sdnc.Tensor ⇄ numpy / torch: the same values and, where the layout allows, the same memory."""
import numpy as np
import pytest

import sdnc

DTYPES = [np.float32, np.float64, np.int64]


def values(dtype, shape=(3, 4, 5)):
    rng = np.random.default_rng(0)
    return (rng.standard_normal(shape) * 100).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_shares_memory(dtype):
    a = values(dtype)
    t = sdnc.Tensor(a)
    assert t.shape == a.shape and t.dtype == np.dtype(dtype).name
    b = np.asarray(t)  # the buffer protocol
    assert b.dtype == a.dtype and b.shape == a.shape
    np.testing.assert_array_equal(b, a)
    # One memory: a write through numpy shows in the tensor and in the original array.
    b[1, 2, 3] = 7
    assert a[1, 2, 3] == 7 and t.numpy()[1, 2, 3] == 7
    assert np.shares_memory(a, t.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
def test_memoryview_format(dtype):
    a = values(dtype, (2, 3))
    view = memoryview(sdnc.Tensor(a))
    assert view.format == {np.float32: "f", np.float64: "d", np.int64: "q"}[dtype]
    assert view.shape == (2, 3) and view.strides == (3 * a.itemsize, a.itemsize)
    assert view.tobytes() == a.tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make", [
    lambda a: a[:, ::2],             # strided
    lambda a: a.transpose(2, 0, 1),  # permuted
    lambda a: a[::-1],               # negative stride
    lambda a: np.asfortranarray(a),  # column-major
])
def test_non_contiguous_is_copied(dtype, make):
    a = make(values(dtype))
    t = sdnc.Tensor(a)
    np.testing.assert_array_equal(np.asarray(t), a)
    assert np.asarray(t).flags.c_contiguous
    assert not np.shares_memory(np.asarray(t), a)


def test_read_only_is_copied():
    a = values(np.float32)
    a.flags.writeable = False
    t = sdnc.Tensor(a)
    np.testing.assert_array_equal(np.asarray(t), a)
    assert not np.shares_memory(np.asarray(t), a)


def test_zero_dim_and_empty():
    np.testing.assert_array_equal(np.asarray(sdnc.Tensor(np.float64(2.5))), 2.5)
    e = np.asarray(sdnc.Tensor(np.zeros((0, 3), np.float32)))
    assert e.shape == (0, 3) and e.dtype == np.float32


def test_lifetime_outlives_python_references():
    t = sdnc.Tensor(values(np.float32))  # the array's only reference is the tensor now
    b = np.asarray(t)
    del t
    np.testing.assert_array_equal(b, values(np.float32))


@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.uint8, np.bool_, np.complex64])
def test_unsupported_dtype_raises(dtype):
    with pytest.raises(sdnc.Error, match=r"\[Tensor\] dtype .* is not supported \(float32, float64, int64\)"):
        sdnc.Tensor(np.zeros(3, dtype))


def test_error_is_value_and_runtime_error():
    assert issubclass(sdnc.Error, ValueError) and issubclass(sdnc.Error, RuntimeError)


def test_torch_both_ways():
    torch = pytest.importorskip("torch")
    a = values(np.float32)
    t = sdnc.Tensor(a)
    pt = torch.from_dlpack(t)  # DLPack: the same memory
    assert pt.dtype == torch.float32 and tuple(pt.shape) == a.shape
    pt[0, 0, 0] = 42
    assert a[0, 0, 0] == 42
    src = torch.arange(12, dtype=torch.int64).reshape(3, 4)
    back = sdnc.Tensor(src)  # a torch tensor in (buffer protocol / DLPack)
    np.testing.assert_array_equal(np.asarray(back), src.numpy())
    back_t = sdnc.Tensor(src.t())  # non-contiguous torch tensor: copied, same values
    np.testing.assert_array_equal(np.asarray(back_t), src.t().numpy())


def test_lists_go_through_numpy():
    np.testing.assert_array_equal(np.asarray(sdnc.Tensor([[1.5, 2.0]])), np.array([[1.5, 2.0]]))
    with pytest.raises(sdnc.Error, match=r"\[Tensor\] expected an array"):
        sdnc.Tensor(object())
