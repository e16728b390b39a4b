"""Write the sample files of examples/: messy, as planners receive them, and the same on every run.

    python examples/make_examples.py

Every position is a point inside one of Jinan's real districts (the district boundaries under
layers/data), picked by a seeded random generator; names, hours, phones and beds are invented.
The files are sample data, not real facilities (see examples/README.md).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from placegeo.crs import convert

HERE = Path(__file__).resolve().parent
DISTRICTS = HERE.parent / "layers" / "data" / "jinan_districts_gcj02.geojson"
SEED = 14

AMAP_HOURS = ["8:30-17:30", "08:30—17:30", "8:30~17:30", "24小时", "全天", "全天24小时", "17:00-次日8:00",
              "20:00-08:00", "8:00-12:00,14:00-18:00", "上午8:00-12:00 下午14:00-18:00", "周一至周五 9:00-17:00",
              "工作日 8:30-17:30 节假日除外", "周末 9:00-17:00"]
AMAP_DATUM_LABELS = ["GCJ-02(高德)", "gcj02", "火星坐标", "GCJ-02(高德)"]
HOSTS = ["派出所", "便利店", "加油站", "社区服务中心", "医院"]
STREETS = ["泉城路", "经十路", "大明湖路", "趵突泉北路", "历山路", "和平路", "解放路", "山大路", "花园路", "工业南路",
           "二环东路", "北园大街", "堤口路", "经一路", "纬二路", "英雄山路", "舜耕路", "旅游路", "华山路", "济泺路"]
BAIDU_HOURS = ["24小时营业", "周一至周日 7:00-22:00", "8:00-20:00", "全天", "9:00-21:00", "24小时"]
HOMES = [  # name, type as written, beds, nursing beds, operator as written
    ("文化东路街道综合养老服务中心", "街道综合养老服务中心", 60, 30, "公建民营"),
    ("泉景颐养院", "养老院", 120, 80, "民办"),
    ("东关社区日间照料中心", "社区日间照料中心", 12, 0, "公办"),
    ("历山长者食堂", "长者食堂", 0, 0, "民办"),
    ("华山敬老院", "敬老院", 90, 40, "公办"),
    ("北园幸福院", "幸福院", 20, 0, "公办"),
    ("英雄山颐和苑", "养老院", 150, 100, "民办"),
    ("舜耕社区日间照料中心", "社区日间照料中心", 10, 0, "公建民营"),
]
PLACE_NAMES = [  # name, category, feature type, former names
    ("杏林巷", "古城", "街巷", "杏花胡同"), ("槐荫里", "商埠", "街巷", ""), ("青石桥", "泉水", "桥", "石桥"),
    ("北园庄", "乡村", "村", "北园村、北园寨"), ("五柳闸", "黄河", "闸", ""), ("红旗渠街", "红色", "街巷", ""),
]


def districts() -> gpd.GeoDataFrame:
    g = gpd.read_file(DISTRICTS)
    return g[g["adcode"].astype(str).isin(["370102", "370103", "370104", "370105", "370112"])].reset_index(drop=True)


def points_inside(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` GCJ-02 lon/lat pairs, each well inside a central district (never near a border)."""
    polys = [shapely.buffer(g, -0.01) for g in districts().geometry]
    out = []
    while len(out) < n:
        poly = polys[len(out) % len(polys)]
        minx, miny, maxx, maxy = poly.bounds
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if poly.contains(shapely.Point(x, y)):
            out.append((round(x, 6), round(y, 6)))
    return np.array(out)


def amap_relief_points(rng: np.random.Generator) -> pd.DataFrame:
    n = len(AMAP_HOURS)
    xy = points_inside(n, rng)
    return pd.DataFrame({
        "名称": [f"{STREETS[i]}{HOSTS[i % len(HOSTS)]}避风港" for i in range(n)],
        "地址": [f"济南市{STREETS[i]}{10 + 7 * i}号" for i in range(n)],
        "经度": [f"{x:.6f}" for x in xy[:, 0]],
        "纬度": [f"{y:.6f}" for y in xy[:, 1]],
        "开放时间": AMAP_HOURS,
        "电话": [f"0531-8{6000000 + 1371 * i}" for i in range(n)],
        "依托单位": [HOSTS[i % len(HOSTS)] for i in range(n)],
        "坐标系": [AMAP_DATUM_LABELS[i % len(AMAP_DATUM_LABELS)] for i in range(n)],
    })


def baidu_relief_points(rng: np.random.Generator) -> pd.DataFrame:
    n = len(BAIDU_HOURS)
    gcj = points_inside(n, rng)
    bx, by = convert(gcj[:, 0], gcj[:, 1], src="gcj02", dst="bd09")
    return pd.DataFrame({
        "name": [f"{STREETS[-1 - i]}便民服务站" for i in range(n)],
        "address": [f"山东省济南市{STREETS[-1 - i]}{3 + 11 * i}号" for i in range(n)],
        "lng": [f"{x:.6f}" for x in bx],
        "lat": [f"{y:.6f}" for y in by],
        "营业时间": BAIDU_HOURS,
        "坐标类型": ["BD-09(百度)", "bd09ll", "百度", "BD-09(百度)", "BD-09", "百度坐标"],
    })


def homes_xlsx(path: Path, rng: np.random.Generator) -> None:
    xy = points_inside(len(HOMES), rng)
    wb = Workbook()
    ws = wb.active
    ws.title = "养老服务设施"
    header = ["序号", "机构名称", "设施类型", "床位数", "护理型床位数", "运营性质", "地址", "联系电话", "经度", "纬度"]
    ws.append(["济南市养老服务设施名录（示例数据）"])
    ws.append(["填报单位：某区民政局（示例）    填报日期：2024年6月"])
    ws.append(header)
    for i, (name, kind, beds, nursing, operator) in enumerate(HOMES):
        ws.append([i + 1, name, kind, beds, nursing, operator, f"济南市{STREETS[2 * i]}{20 + i}号",
                   f"0531-8{7000000 + 2417 * i}", float(xy[i, 0]), float(xy[i, 1])])
    ws.append(["注：坐标取自高德地图（GCJ-02）；床位数截至2024年6月；本表为示例数据。"])
    last = ws.max_row
    for row in (1, 2, last):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(header))
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    stamp = dt.datetime(2024, 6, 1, 9, 0, 0)
    wb.properties.created = wb.properties.modified = stamp
    wb.save(path)
    _fix_zip_times(path, stamp)


def _fix_zip_times(path: Path, stamp: dt.datetime) -> None:
    """Give every member of the XLSX (a zip) the same time, so the file's bytes do not change between runs."""
    with zipfile.ZipFile(path) as zf:
        members = [(info.filename, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            if name == "docProps/core.xml":  # openpyxl stamps the time of saving as "modified"
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp.isoformat().encode() + b"Z", data)
            zf.writestr(zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6]), data, zipfile.ZIP_DEFLATED)


def place_names_shapefile(folder: Path, rng: np.random.Generator) -> None:
    folder.mkdir(exist_ok=True)
    xy = points_inside(len(PLACE_NAMES), rng)
    x, y = convert(xy[:, 0], xy[:, 1], src="gcj02", dst="cgcs2000")
    gdf = gpd.GeoDataFrame({"地名": [p[0] for p in PLACE_NAMES], "类别": [p[1] for p in PLACE_NAMES],
                            "地名类型": [p[2] for p in PLACE_NAMES], "曾用名": [p[3] for p in PLACE_NAMES]},
                           geometry=gpd.points_from_xy(np.round(x, 7), np.round(y, 7)), crs="EPSG:4490")
    shp = folder / "place_names.shp"
    pyogrio.write_dataframe(gdf, shp, encoding="GBK")
    folder.joinpath("place_names.cpg").unlink(missing_ok=True)  # as desktop GIS of other offices leave it


def main() -> None:
    rng = np.random.default_rng(SEED)
    # UTF-8 with a BOM, as Amap's export and Excel's "CSV UTF-8" write it
    amap_relief_points(rng).to_csv(HERE / "amap_relief_points.csv", index=False, encoding="utf-8-sig")
    baidu_relief_points(rng).to_csv(HERE / "baidu_relief_points.csv", index=False, encoding="utf-8")
    homes_xlsx(HERE / "homes.xlsx", rng)
    place_names_shapefile(HERE / "place_names_gbk", rng)
    print(f"wrote the sample files into {HERE.name}/")


if __name__ == "__main__":
    main()
