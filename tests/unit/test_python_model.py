import pandas as pd
from sklearn.linear_model import LinearRegression
import pytest

from dbt_learn import ModelCodeError
from dbt_learn.python_model import check_estimator, is_fitted, run_model_code

POSTFIX = '''
def ref(*args, dbt_load_df_function):
    return dbt_load_df_function('"db"."s"."' + args[0] + '"')

class dbtObj:
    def __init__(self, load_df_function):
        self.ref = lambda *args: ref(*args, dbt_load_df_function=load_df_function)
        self.config = lambda **kwargs: None
'''


def _code(body):
    return "from sklearn.linear_model import LinearRegression\n\n\ndef model(dbt, session):\n" + body + POSTFIX


def test_model_code_gets_frames_from_ref_and_returns_an_estimator():
    code = _code("    dbt.ref('rows')\n    return LinearRegression()\n")
    returned, frames = run_model_code("m", code, "models/m.py", lambda name: pd.DataFrame({"x": [1.0]}))
    assert isinstance(check_estimator("m", "models/m.py", returned), LinearRegression)
    assert len(frames) == 1 and not is_fitted(returned)


def test_errors_point_at_the_users_file_and_line():
    code = _code("    frame = dbt.ref('rows')\n    return frame['missing']\n")
    with pytest.raises(ModelCodeError, match=r"models/m\.py, line 6, in model: return frame\['missing'\].*KeyError"):
        run_model_code("m", code, "models/m.py", lambda name: pd.DataFrame({"x": [1.0]}))


def test_syntax_errors_name_the_line():
    with pytest.raises(ModelCodeError, match=r"models/m\.py, line 5\): SyntaxError"):
        run_model_code("m", _code("    return (\n"), "models/m.py", lambda name: None)


def test_a_model_without_a_model_function_is_refused():
    with pytest.raises(ModelCodeError, match="def model"):
        run_model_code("m", "x = 1\n" + POSTFIX, "models/m.py", lambda name: None)
