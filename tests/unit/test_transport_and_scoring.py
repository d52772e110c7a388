import struct

import numpy as np
import pytest

from dbt_learn import TrainingDataError, copy_rows, predict_batch
from dbt_learn._transport import decode_float_matrix, decode_training_rows, feature_frame, text_matrix


def _float8(*values):
    return b"".join(struct.pack(">d", v) for v in values)


def test_training_rows_split_into_features_and_class_index():
    blob = _float8(1.0, 2.0) + struct.pack(">i", 1) + _float8(3.0, float("nan")) + struct.pack(">i", 0)
    X, y = decode_training_rows(blob, 2, 2, "int4", model="m")
    np.testing.assert_array_equal(X[0], [1.0, 2.0])
    assert np.isnan(X[1, 1]) and X.dtype == np.float64 and X.flags.writeable
    assert y.tolist() == [1, 0]


def test_training_rows_with_a_float_target_and_without_one():
    X, y = decode_training_rows(_float8(1.0, 5.0, 2.0, 7.0), 2, 1, "float8", model="m")
    assert X.ravel().tolist() == [1.0, 2.0] and y.tolist() == [5.0, 7.0]
    X, y = decode_training_rows(_float8(1.0, 2.0), 2, 1, None, model="m")
    assert y is None and X.shape == (2, 1)


def test_a_batch_of_the_wrong_size_is_refused():
    with pytest.raises(TrainingDataError, match="model 'm'.*24 bytes"):
        decode_training_rows(_float8(1.0, 2.0, 3.0), 2, 2, None, model="m")
    with pytest.raises(TrainingDataError):
        decode_float_matrix(b"\x00" * 7, 1, 1, model="m")


def test_feature_frame_puts_numeric_and_categorical_columns_back_in_training_order():
    features = [{"name": "a", "kind": "numeric"}, {"name": "c", "kind": "categorical"}, {"name": "b", "kind": "numeric"}]
    frame = feature_frame(features, np.array([[1.0, 2.0]]), text_matrix([["x"]], 1, 1, model="m"))
    assert list(frame.columns) == ["a", "c", "b"]
    assert frame.iloc[0].tolist() == [1.0, "x", 2.0]


def _parse_copy(payload):
    """A minimal reader of the binary COPY format, independent of the numpy writer."""
    assert payload[:11] == b"PGCOPY\n\xff\r\n\x00"
    offset, rows = 19, []
    while True:
        (n_fields,) = struct.unpack_from(">h", payload, offset)
        offset += 2
        if n_fields == -1:
            assert offset == len(payload)
            return rows
        row = []
        for _ in range(n_fields):
            (length,) = struct.unpack_from(">i", payload, offset)
            offset += 4
            row.append(None if length == -1 else payload[offset:offset + length])
            offset += max(length, 0)
        rows.append(row)


def test_copy_rows_for_a_regressor():
    rows = _parse_copy(copy_rows(2, prediction=np.array([1.5, -2.0])))
    assert [struct.unpack(">q", r[0])[0] for r in rows] == [1, 2]
    assert [struct.unpack(">d", r[1])[0] for r in rows] == [1.5, -2.0]
    assert all(r[2] is None and r[3] is None for r in rows)


def test_copy_rows_for_a_classifier_carry_class_index_and_a_float8_array():
    rows = _parse_copy(copy_rows(1, class_index=np.array([1], dtype=np.int32),
                                 probabilities=np.array([[0.25, 0.75]])))
    row_number, prediction, class_index, array = rows[0]
    assert prediction is None and struct.unpack(">i", class_index)[0] == 1
    ndim, has_null, oid, dim, lbound = struct.unpack_from(">iiiii", array)
    assert (ndim, has_null, oid, dim, lbound) == (1, 0, 701, 2, 1)
    values = [struct.unpack_from(">id", array, 20 + 12 * i) for i in range(2)]
    assert values == [(8, 0.25), (8, 0.75)]


def test_predict_batch_maps_labels_to_class_indexes():
    from sklearn.tree import DecisionTreeClassifier

    estimator = DecisionTreeClassifier(random_state=0).fit([[0], [1], [2]], ["b", "c", "a"])
    prediction, class_index, probabilities = predict_batch("m", estimator, np.array([[2], [0]]), "classification")
    assert prediction is None
    assert [estimator.classes_[i] for i in class_index] == ["a", "b"]
    assert probabilities.shape == (2, 3)
