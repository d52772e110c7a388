import struct

import numpy as np
import pytest

from dbt_learn import TrainingDataError, copy_arrays, predict_batch
from dbt_learn._transport import decode_float_matrix, decode_text_column, decode_training_rows, feature_frame


def _float8(*values):
    return b"".join(struct.pack(">d", v) for v in values)


def _rows(X, y):
    """Rows as they arrive, keyed for order-free comparison (the runtime reorders them canonically)."""
    return sorted(zip(map(tuple, np.nan_to_num(X, nan=-99).tolist()), [None] * len(X) if y is None else y.tolist()))


def test_training_rows_split_into_features_and_class_index():
    blob = _float8(1.0, 2.0) + struct.pack(">i", 1) + _float8(3.0, float("nan")) + struct.pack(">i", 0)
    X, y, _, _ = decode_training_rows(blob, 2, 2, "int4", model="m")
    assert _rows(X, y) == [((1.0, 2.0), 1), ((3.0, -99.0), 0)]
    assert X.dtype == np.float64 and X.flags.writeable


def test_training_rows_with_a_float_target_and_without_one():
    X, y, _, _ = decode_training_rows(_float8(1.0, 5.0, 2.0, 7.0), 2, 1, "float8", model="m")
    assert _rows(X, y) == [((1.0,), 5.0), ((2.0,), 7.0)]
    X, y, _, _ = decode_training_rows(_float8(1.0, 2.0), 2, 1, None, model="m")
    assert y is None and X.shape == (2, 1)


def test_training_rows_come_out_in_one_order_and_fingerprint_whatever_order_they_arrived_in():
    rng = np.random.default_rng(0)
    rows = [_float8(*rng.normal(size=3)) for _ in range(500)]
    X1, y1, print1, _ = decode_training_rows(b"".join(rows), 500, 2, "float8", model="m")
    X2, y2, print2, _ = decode_training_rows(b"".join(rows[::-1]), 500, 2, "float8", model="m")
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert print1 == print2
    _, _, changed, _ = decode_training_rows(b"".join(rows[:-1] + [_float8(0.0, 0.0, 0.0)]), 500, 2, "float8", model="m")
    assert changed != print1


def test_a_batch_of_the_wrong_size_is_refused():
    with pytest.raises(TrainingDataError, match="model 'm'.*24 bytes"):
        decode_training_rows(_float8(1.0, 2.0, 3.0), 2, 2, None, model="m")
    with pytest.raises(TrainingDataError):
        decode_float_matrix(b"\x00" * 7, 1, 1, model="m")


def test_feature_frame_puts_numeric_and_categorical_columns_back_in_training_order():
    features = [{"name": "a", "kind": "numeric"}, {"name": "c", "kind": "categorical"},
                {"name": "b", "kind": "numeric"}]
    frame = feature_frame(features, np.array([[1.0, 2.0]]), [np.array(["x"], dtype=object)])
    assert list(frame.columns) == ["a", "c", "b"]
    assert frame.iloc[0].tolist() == [1.0, "x", 2.0]


def _text_wire(values):
    """A text column as the SQL of text_bytes_sql sends it."""
    return b"".join((b"\xff" if v is None else v.encode("utf-8")) + b"\x00" for v in values)


def test_a_text_column_decodes_with_nulls_empty_strings_and_any_unicode():
    values = ["a", None, "", "é ü ☃", "a", "tab\tnew\nline", None]
    decoded = decode_text_column(_text_wire(values), len(values), model="m", column="c")
    assert decoded.dtype == object
    assert [None if isinstance(v, float) and np.isnan(v) else v for v in decoded.tolist()] == values
    assert decode_text_column(b"", 0, model="m", column="c").tolist() == []


def test_a_text_column_of_the_wrong_length_names_the_column():
    with pytest.raises(TrainingDataError, match="model 'm'.*2 values of text column 'city' for 3 rows"):
        decode_text_column(_text_wire(["a", "b"]), 3, model="m", column="city")


def test_text_columns_join_the_canonical_order_and_the_fingerprint():
    rows = [_float8(1.0), _float8(1.0), _float8(2.0)]
    texts = np.array(["x", "y", None], dtype=object)
    X1, _, print1, (t1,) = decode_training_rows(b"".join(rows), 3, 1, None, model="m", text_columns=[texts])
    X2, _, print2, (t2,) = decode_training_rows(b"".join(rows[::-1]), 3, 1, None, model="m",
                                                 text_columns=[texts[::-1]])
    assert print1 == print2 and t1.tolist() == t2.tolist()
    assert sorted(zip(X1[:, 0].tolist(), map(str, t1))) == [(1.0, "x"), (1.0, "y"), (2.0, "None")]
    _, _, changed, _ = decode_training_rows(b"".join(rows), 3, 1, None, model="m",
                                           text_columns=[np.array(["x", "z", None], dtype=object)])
    assert changed != print1


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


def _parse_array(field):
    ndim, has_null, oid, dim, lbound = struct.unpack_from(">iiiii", field)
    assert (ndim, has_null, lbound) == (1, 0, 1) and len(field) == 20 + dim * (4 + (8 if oid == 701 else 4))
    element = ">id" if oid == 701 else ">ii"
    pairs = [struct.unpack_from(element, field, 20 + i * struct.calcsize(element)) for i in range(dim)]
    assert {length for length, _ in pairs} <= {8 if oid == 701 else 4}
    return oid, [value for _, value in pairs]


def test_copy_arrays_for_a_regressor():
    (row,) = _parse_copy(copy_arrays(2, prediction=np.array([1.5, -2.0])))
    assert _parse_array(row[0]) == (701, [1.5, -2.0])
    assert row[1] is None and row[2] is None


def test_copy_arrays_for_a_classifier_carry_class_indexes_and_class_major_probabilities():
    (row,) = _parse_copy(copy_arrays(2, class_index=np.array([1, 0], dtype=np.int32),
                                     probabilities=np.array([[0.25, 0.75], [0.9, 0.1]])))
    assert row[0] is None
    assert _parse_array(row[1]) == (23, [1, 0])
    assert _parse_array(row[2]) == (701, [0.25, 0.9, 0.75, 0.1])


def test_predict_batch_maps_labels_to_class_indexes():
    from sklearn.tree import DecisionTreeClassifier

    estimator = DecisionTreeClassifier(random_state=0).fit([[0], [1], [2]], ["b", "c", "a"])
    prediction, class_index, probabilities = predict_batch("m", estimator, np.array([[2], [0]]), "classification")
    assert prediction is None
    assert [estimator.classes_[i] for i in class_index] == ["a", "b"]
    assert probabilities.shape == (2, 3)


def test_class_blobs_arriving_in_any_group_order_get_the_index_of_their_sorted_label():
    from dbt_learn._transport import class_batch

    # groups arrive as ("b": 2 rows, "a": 1 row); sorted labels are ["a", "b"]
    records = class_batch([_float8(1.0, 2.0), _float8(3.0)], [2, 1], [1, 0], 1)
    X, y, _, _ = decode_training_rows(records, 3, 1, "int4", model="m")
    assert sorted(zip(X.ravel().tolist(), y.tolist())) == [(1.0, 1), (2.0, 1), (3.0, 0)]


def test_the_category_encoder_matches_scikit_learns_one_hot_encoder_on_known_unseen_and_null_values():
    import pandas as pd
    from sklearn.preprocessing import OneHotEncoder

    from dbt_learn.preprocessing import CategoryEncoder

    rng = np.random.default_rng(3)
    train = pd.DataFrame({"c": rng.choice(np.array(["a", "b", "c", "d", "e", np.nan], dtype=object), 500,
                                          p=[0.4, 0.25, 0.15, 0.1, 0.06, 0.04]),
                          "d": rng.choice(np.array(["x", "y"], dtype=object), 500)})
    new = pd.DataFrame({"c": np.array(["a", "zzz", np.nan, "e", "b"], dtype=object),
                        "d": np.array(["y", "x", np.nan, "q", "x"], dtype=object)})
    for limit in (50, 4):
        ours = CategoryEncoder("onehot", limit, sparse=False).fit(train)
        theirs = OneHotEncoder(handle_unknown="ignore", max_categories=limit, sparse_output=False).fit(train)
        # The same columns (ours name the merged bucket <column>_other), so the same matrix once ordered alike.
        names = [n.replace("infrequent_sklearn", "other") for n in theirs.get_feature_names_out()]
        order = [list(ours.get_feature_names_out()).index(n) for n in names]
        np.testing.assert_array_equal(ours.transform(new)[:, order], theirs.transform(new))
        np.testing.assert_array_equal(ours.transform(train)[:, order], theirs.transform(train))
    codes = CategoryEncoder("ordinal", 4).fit(train).transform(new)
    assert codes[1, 0] == -1 and codes[3, 1] == -1  # unseen: -1
    assert codes[0, 0] != codes[4, 0] and codes[2, 0] >= 0  # known categories and NULL have codes
