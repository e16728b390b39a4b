"""Opening hours as Chinese bureaus and Amap/Baidu exports write them: parsing, open-at, masks and coverage."""

import geopandas as gpd
import pandas as pd
import pytest
from shapely import Point

from placegeo.coverage import CoverageError, open_at, relief_reach
from placegeo.errors import OpeningHoursError, PlacegeoError
from placegeo.hours import (
    OpeningHours,
    derive_open_24h,
    hours_columns,
    is_open,
    open_keys,
    open_mask,
    parse_hours,
    parse_yes_no,
)

MON, TUE, WED, THU, FRI, SAT, SUN = range(1, 8)

FORMS = [  # as written -> normalised OpenStreetMap opening_hours
    ("8:30-17:30", "08:30-17:30"),
    ("08:30-17:30", "08:30-17:30"),
    ("08:30—17:30", "08:30-17:30"),  # em dash
    ("08:30–17:30", "08:30-17:30"),  # en dash
    ("8:30～17:30", "08:30-17:30"),  # full-width tilde
    ("8:30~17:30", "08:30-17:30"),
    ("8:30至17:30", "08:30-17:30"),
    ("8:30到17:30", "08:30-17:30"),
    ("8：30-17：30", "08:30-17:30"),  # full-width colon
    ("８：３０－１７：３０", "08:30-17:30"),  # full-width digits and hyphen
    ("开放时间：8:30-17:30", "08:30-17:30"),
    ("8点半-17点半", "08:30-17:30"),
    ("8点-17点", "08:00-17:00"),
    ("24小时", "24/7"),
    ("全天", "24/7"),
    ("全天24小时", "24/7"),
    ("24h", "24/7"),
    ("24小时营业", "24/7"),
    ("00:00-24:00", "24/7"),
    ("17:00-次日8:00", "17:00-08:00"),
    ("20:00-08:00", "20:00-08:00"),
    ("晚上8点-早上8点", "20:00-08:00"),
    ("晚上8点-12点", "20:00-24:00"),
    ("晚上8:00-2:00", "20:00-02:00"),
    ("中午12:00-2:00", "12:00-14:00"),
    ("8:00-24:00", "08:00-24:00"),
    ("24:00-06:00", "00:00-06:00"),  # hour 24 as a start is 0:00
    ("8:00-12:00,14:00-18:00", "08:00-12:00,14:00-18:00"),
    ("8:00-12:00，14:00-18:00", "08:00-12:00,14:00-18:00"),
    ("8:00-12:00、14:00-18:00", "08:00-12:00,14:00-18:00"),
    ("8:00-12:00/14:00-18:00", "08:00-12:00,14:00-18:00"),
    ("上午8:00-12:00 下午14:00-18:00", "08:00-12:00,14:00-18:00"),
    ("上午8:00-12:00 下午2:00-6:00", "08:00-12:00,14:00-18:00"),  # 下午2:00 is 14:00
    ("周一至周五 9:00-17:00", "Mo-Fr 09:00-17:00"),
    ("周一到周六 8:00-18:00", "Mo-Sa 08:00-18:00"),
    ("星期一至星期五 9:00-17:00", "Mo-Fr 09:00-17:00"),
    ("周一至五 9:00-17:00", "Mo-Fr 09:00-17:00"),
    ("周一、周三、周五 9:00-12:00", "Mo,We,Fr 09:00-12:00"),
    ("工作日 8:30-17:30", "Mo-Fr 08:30-17:30"),
    ("周末 10:00-16:00", "Sa,Su 10:00-16:00"),
    ("双休日 10:00-16:00", "Sa,Su 10:00-16:00"),
    ("周六日 9:00-12:00", "Sa,Su 09:00-12:00"),
    ("每天 8:00-20:00", "08:00-20:00"),
    ("每日8:00-20:00", "08:00-20:00"),
    ("周一至周五 8:30-17:30 节假日除外", "Mo-Fr 08:30-17:30; PH off"),
    ("周一至周五8:30-17:30（节假日除外）", "Mo-Fr 08:30-17:30; PH off"),
    ("工作日 8:30-17:30，法定节假日休息", "Mo-Fr 08:30-17:30; PH off"),
    ("周一至周五 9:00-17:00；周六 9:00-12:00", "Mo-Fr 09:00-17:00; Sa 09:00-12:00"),
    ("周一至周五 9:00-17:00;周六 9:00-12:00", "Mo-Fr 09:00-17:00; Sa 09:00-12:00"),
    ("周一至周五 9:00-17:00\n周六 9:00-12:00", "Mo-Fr 09:00-17:00; Sa 09:00-12:00"),
    ("周一至周五 9:00-17:00 周六、周日休息", "Mo-Fr 09:00-17:00; Sa,Su off"),
    ("周一至周五上午8:30-12:00，下午13:30-17:00", "Mo-Fr 08:30-12:00,13:30-17:00"),
    ("每天 9:00-17:00；周一闭馆", "09:00-17:00; Mo off"),
    # days written after the times
    ("8:00-17:00（周一至周五）", "Mo-Fr 08:00-17:00"),
    ("9:00-17:00 周一、周三、周五", "Mo,We,Fr 09:00-17:00"),
    ("9:00-17:00（周一至周五），周六日休息", "Mo-Fr 09:00-17:00; Sa,Su off"),
    ("9:00-17:00 周一至周五，周六日休息", "Mo-Fr 09:00-17:00; Sa,Su off"),
    ("9:00-17:00（周一、周三），周五休息", "Mo,We 09:00-17:00; Fr off"),
    # already OpenStreetMap
    ("Mo-Fr 08:00-12:00,14:00-18:00; PH off", "Mo-Fr 08:00-12:00,14:00-18:00; PH off"),
    ("24/7", "24/7"),
    ("Mo-Su 07:00-23:00", "07:00-23:00"),
    ("Sa,Su 10:00-16:00", "Sa,Su 10:00-16:00"),
    ("Su,PH off", "Su off; PH off"),
]

UNKNOWN = ["看情况", "请电话咨询", "8am-5pm", "9-17", "25:00-26:00", "8:61-9:00", "8:00-8:00", "8:00",
           "周一至周五", "Mo-Fr", "-", "sunrise-sunset"]


@pytest.mark.parametrize(("text", "osm"), FORMS)
def test_each_written_form_reads_to_openstreetmap_syntax(text, osm):
    h = parse_hours(text)
    assert (h.ok, h.osm, h.problem, h.text) == (True, osm, None, text.strip())
    again = parse_hours(h.osm)  # the normalised form reads back to itself
    assert again.osm == osm and again.rules == h.rules


@pytest.mark.parametrize("text", UNKNOWN)
def test_unknown_hours_are_kept_and_reported_never_guessed(text):
    h = parse_hours(text)
    assert isinstance(h, OpeningHours) and h.text == text
    assert not h.ok and h.osm is None and h.rules == ()
    assert text in h.problem and "8:30-17:30" in h.problem  # names the text and shows how to write it
    assert all(is_open(h, weekday=d, hour=hr) is None for d in range(1, 8) for hr in (0, 3, 9.5, 15, 23))
    assert is_open(text, weekday=MON, hour=9) is None
    assert derive_open_24h(text) is None


def test_problem_names_the_part_not_understood():
    assert "'25:00' is not a time of day" in parse_hours("25:00-26:00").problem
    assert "cannot read '8am', '5pm'" in parse_hours("8am-5pm").problem
    assert "no time is given for 'Mo-Fr'" in parse_hours("周一至周五").problem
    assert parse_hours(None).problem == parse_hours("  ").problem == "no opening hours given"


@pytest.mark.parametrize(("text", "weekday", "hour", "expected"), [
    ("8:30-17:30", MON, 8.5, True),
    ("8:30-17:30", MON, 8.49, False),
    ("8:30-17:30", SUN, 17.5, False),  # the end is exclusive
    ("8:30-17:30", SUN, 17.49, True),
    ("24小时", WED, 3, True),
    ("全天", SUN, 23.99, True),
    # overnight: belongs to the day it starts on
    ("20:00-08:00", TUE, 23, True),
    ("20:00-08:00", TUE, 7.9, True),
    ("20:00-08:00", TUE, 8, False),
    ("17:00-次日8:00", THU, 2, True),
    ("Fr 20:00-08:00", SAT, 3, True),  # Friday night into Saturday
    ("Fr 20:00-08:00", FRI, 3, False),  # Thursday night is not opened by a Friday rule
    ("Fr 20:00-08:00", SAT, 21, False),
    ("周五 20:00-次日8:00；周六休息", SAT, 3, True),  # Saturday's own rule does not cut Friday's night
    # hour 24: the end of the day, i.e. hour 0 of the next
    ("8:00-24:00", MON, 23.99, True),
    ("8:00-24:00", MON, 24, False),
    ("0:00-6:00", MON, 24, True),
    ("0:00-6:00", MON, 0, True),
    ("24:00-06:00", MON, 5, True),
    ("周一 0:00-6:00", SUN, 24, True),  # Sunday 24:00 is Monday 0:00
    ("周一 0:00-6:00", MON, 24, False),
    # two ranges
    ("8:00-12:00,14:00-18:00", MON, 13, False),
    ("8:00-12:00、14:00-18:00", MON, 15, True),
    ("上午8:00-12:00 下午2:00-6:00", MON, 17, True),
    ("上午8:00-12:00 下午2:00-6:00", MON, 12.5, False),
    # weekdays
    ("周一至周五 9:00-17:00", FRI, 10, True),
    ("周一至周五 9:00-17:00", SAT, 10, False),
    ("工作日 9:00-17:00", SUN, 10, False),
    ("周末 10:00-16:00", SUN, 11, True),
    ("周末 10:00-16:00", MON, 11, False),
    ("周一至周五 9:00-17:00；周六 9:00-12:00", SAT, 11, True),
    ("周一至周五 9:00-17:00；周六 9:00-12:00", SAT, 13, False),
    ("每天 9:00-17:00；周一闭馆", MON, 10, False),
    ("每天 9:00-17:00；周一闭馆", TUE, 10, True),
    # PH off is kept in the text but holidays are not modelled as dates
    ("周一至周五 8:30-17:30 节假日除外", WED, 9, True),
    ("周一至周五 8:30-17:30 节假日除外", SAT, 9, False),
])
def test_is_open(text, weekday, hour, expected):
    assert is_open(text, weekday=weekday, hour=hour) is expected
    assert is_open(parse_hours(text), weekday=weekday, hour=hour) is expected


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"weekday": 0, "hour": 9}, "weekday"), ({"weekday": 8, "hour": 9}, "weekday"),
    ({"weekday": "Mo", "hour": 9}, "weekday"), ({"weekday": True, "hour": 9}, "weekday"),
    ({"weekday": 1, "hour": -1}, "hour"), ({"weekday": 1, "hour": 24.5}, "hour"),
    ({"weekday": 1, "hour": float("nan")}, "hour"), ({"weekday": 1, "hour": "9"}, "hour"),
])
def test_bad_weekday_or_hour_is_a_typed_error_naming_the_parameter(kwargs, name):
    pts = pd.DataFrame({"open_24h": [True], "hours": [None]})
    for call in (lambda: is_open("8:00-17:00", **kwargs), lambda: open_mask(pts, **kwargs),
                 lambda: open_keys(pts.assign(point_id=["a"]), key="point_id", **kwargs)):
        with pytest.raises(OpeningHoursError, match=f"^{name} = ") as e:
            call()
        assert isinstance(e.value, PlacegeoError) and isinstance(e.value, ValueError)


def test_derive_open_24h():
    assert [derive_open_24h(t) for t in ["24小时", "全天", "全天24小时", "24/7", "00:00-24:00", "每天 0:00-24:00"]] \
        == [True] * 6
    assert [derive_open_24h(t) for t in ["8:30-17:30", "工作日 24小时", "20:00-08:00", "24/7; Mo off"]] \
        == [False] * 4
    assert derive_open_24h(None) is None and derive_open_24h("看情况") is None


@pytest.mark.parametrize(("value", "expected"), [
    ("是", True), ("否", False), ("True", True), ("False", False), ("true", True), ("false", False),
    ("1", True), ("0", False), ("Y", True), ("N", False), ("y", True), ("n", False), (" 是 ", True),
    (True, True), (False, False), (1, True), (0, False), (1.0, True), (0.0, False),
    (None, None), (float("nan"), None), (pd.NA, None), ("", None), ("也许", None), (2, None),
])
def test_yes_no_as_people_write_it(value, expected):
    assert parse_yes_no(value) is expected


def test_open_mask_reads_text_booleans_and_never_guesses():
    pts = pd.DataFrame(
        {"open_24h": ["是", "否", "False", "0", "N", "true", "1", None, False, pd.NA],
         "hours": [None, "20:00-08:00", "20:00-08:00", "20:00-08:00", "周一至周五 9:00-17:00", None, None,
                   "8:00-17:00", None, "看情况"]},
        index=[10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
    )
    at_3 = open_mask(pts, weekday=SAT, hour=3)
    assert at_3.dtype == "boolean" and at_3.index.tolist() == pts.index.tolist() and at_3.name == "open"
    # 否/False/0 are not "always open": their hours decide; missing or unreadable hours give <NA>
    assert at_3.tolist() == [True, True, True, True, False, True, True, False, pd.NA, pd.NA]
    at_10_fri = open_mask(pts, weekday=FRI, hour=10)
    assert at_10_fri.tolist() == [True, False, False, False, True, True, True, True, pd.NA, pd.NA]
    assert pts["open_24h"].tolist()[1] == "否"  # input untouched


def test_open_mask_needs_an_hours_column():
    with pytest.raises(OpeningHoursError, match="neither an 'open_24h' nor an 'hours' column; they have name"):
        open_mask(pd.DataFrame({"name": ["a"]}), weekday=1, hour=9)
    only_hours = open_mask(pd.DataFrame({"hours": ["24小时", "9:00-17:00"]}), weekday=1, hour=20)
    assert only_hours.tolist() == [True, False]


def test_open_keys_is_the_web_answer():
    pts = pd.DataFrame({"point_id": ["RP001", "RP002", "RP003", "RP004"],
                        "open_24h": [True, False, "否", False],
                        "hours": [None, "周五 20:00-次日8:00", "8:30-17:30", "电话预约"]})
    assert open_keys(pts, key="point_id", weekday=SAT, hour=3) == {
        "open": ["RP001", "RP002"], "closed": ["RP003"], "unknown": ["RP004"], "weekday": SAT, "hour": 3.0}
    assert open_keys(pts, key="point_id", weekday=SAT, hour=24)["open"] == ["RP001"]  # Sunday 0:00
    with pytest.raises(OpeningHoursError, match="key column 'id' is not in the points"):
        open_keys(pts, key="id", weekday=1, hour=1)


def test_hours_columns_for_the_import():
    hours = pd.Series(["8:30-17:30", "全天24小时", "工作日 9:00-17:00，节假日除外", "看情况", None],
                      index=[5, 6, 7, 8, 9])
    out = hours_columns(hours)
    assert out.index.tolist() == [5, 6, 7, 8, 9]
    assert out["opening_hours"].tolist() == ["08:30-17:30", "24/7", "Mo-Fr 09:00-17:00; PH off", None, None]
    assert out["open_24h"].tolist() == [False, True, False, pd.NA, pd.NA]
    assert out["problem"].isna().tolist() == [True, True, True, False, True]
    assert "看情况" in out["problem"].loc[8]


# -- coverage ---------------------------------------------------------------------------------------

def test_open_at_delegates_and_reads_hour_24_as_midnight():
    pts = pd.DataFrame({"open_24h": [False, "否", "0"], "hours": ["0:00-6:00", "8:00-24:00", "22:00-次日6:00"]})
    assert open_at(pts, 24).tolist() == [True, False, True]
    assert open_at(pts, 0).tolist() == [True, False, True]
    assert open_at(pts, 23).tolist() == [False, True, True]


def test_open_at_asks_for_a_weekday_when_the_hours_depend_on_it():
    pts = pd.DataFrame({"open_24h": [False, False], "hours": ["8:00-20:00", "周一至周五 9:00-17:00"]})
    with pytest.raises(CoverageError, match=r"depend on the weekday \(row 2: '周一至周五 9:00-17:00'\); pass weekday="):
        open_at(pts, 10)
    assert open_at(pts, 10, weekday=MON).tolist() == [True, True]
    assert open_at(pts, 10, weekday=SUN).tolist() == [True, False]


def test_open_at_refuses_unreadable_hours():
    with pytest.raises(CoverageError, match="row 2: opening hours '电话预约'"):
        open_at(pd.DataFrame({"open_24h": [True, False], "hours": [None, "电话预约"]}), 9)


def _relief_case():
    # Three points in a row 600 m apart along a parallel in EPSG:4548 (metres); one unit beside each.
    def at(xs, **cols):
        return gpd.GeoDataFrame(cols, geometry=[Point(500_000 + x, 4_060_000) for x in xs], crs=4548).to_crs(4490)

    relief = at([0, 600, 1200], point_id=["weekday", "night", "unknown"], open_24h=["否", "False", "0"],
                hours=["周一至周五 9:00-17:00", "周五 20:00-次日8:00", "看情况"])
    units = at([0, 600, 1200], unit_id=["u0", "u1", "u2"], residents=[100] * 3, residents_60plus=[10] * 3,
               town_code=["370102001"] * 3, district_code=["370102"] * 3)
    return units, relief


def test_relief_reach_by_weekday_and_hour_reports_unknown_hours():
    units, relief = _relief_case()
    weekday_10 = relief_reach(units, relief, hour=10, weekday=WED)
    assert weekday_10.attrs["open_points"] == 1 and weekday_10.attrs["unknown_hours"] == ["unknown"]
    assert weekday_10["nearest_facility_id"].tolist()[:2] == ["weekday", "weekday"]
    assert weekday_10["covered_15min"].tolist() == [True, True, False]  # 600 m x 1.3 = 780 m; 1,560 m is too far
    saturday_3 = relief_reach(units, relief, hour=3, weekday=SAT)  # Friday's night
    assert saturday_3.attrs["open_points"] == 1 and saturday_3["nearest_facility_id"].tolist()[1] == "night"
    assert (saturday_3.attrs["weekday"], saturday_3.attrs["hour"]) == (SAT, 3)
    with pytest.raises(CoverageError, match=r"no relief point is open at 3:00 on weekday 3 \(1 have hours"):
        relief_reach(units, relief, hour=3, weekday=WED)
    with pytest.raises(CoverageError, match="pass weekday="):
        relief_reach(units, relief, hour=10)
    with pytest.raises(CoverageError, match="without an hour"):
        relief_reach(units, relief, weekday=WED)
    every = relief_reach(units, relief)  # no hour: every point counts, hours are not read
    assert every.attrs["open_points"] == 3 and every.attrs["unknown_hours"] == []


def test_relief_reach_without_weekday_when_hours_do_not_depend_on_it():
    units, relief = _relief_case()
    relief = relief.assign(hours=["8:00-20:00", "20:00-次日8:00", "看情况"])
    night = relief_reach(units, relief, hour=24)  # midnight: the overnight point only
    assert night.attrs["open_points"] == 1 and night.attrs["unknown_hours"] == ["unknown"]
    assert night["nearest_facility_id"].tolist()[1] == "night"
