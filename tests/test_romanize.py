"""Sign romanisation by 《中国地名汉语拼音字母拼写规则（汉语地名部分）》 (1984).

Each expected form is the rules' own example, or a name of Jinan, Jining or Weifang written by the rule
named in the comment (r1: proper and generic apart; r2: single-syllable modifiers with the generic; r3:
natural villages one word; r4: a generic become part of the proper name; r6: numerals in pinyin; r11:
apostrophe; r14: facility names).
"""

import pytest

from placegeo.pinyin import GENERIC_TERMS, romanize, to_pinyin

THREE_CITIES = [
    # --- Jinan: province, city, districts and counties (r1; chained names unit by unit)
    ("山东省", "Shandong Sheng"),
    ("济南市", "Jinan Shi"),                        # r11: no apostrophe, 南 starts with n
    ("济南市历下区", "Jinan Shi Lixia Qu"),
    ("山东省济南市大明湖", "Shandong Sheng Jinan Shi Daming Hu"),
    ("济南市历下区芙蓉街", "Jinan Shi Lixia Qu Furong Jie"),
    ("历下区", "Lixia Qu"),
    ("市中区", "Shizhong Qu"),                      # 市 at the start is not a unit of its own
    ("槐荫区", "Huaiyin Qu"),
    ("天桥区", "Tianqiao Qu"),
    ("天桥", "Tianqiao"),                           # r4 / one-character name + 桥
    ("历城区", "Licheng Qu"),
    ("长清区", "Changqing Qu"),                      # not Zhangqing
    ("章丘区", "Zhangqiu Qu"),
    ("济阳区", "Jiyang Qu"),
    ("莱芜区", "Laiwu Qu"),
    ("钢城区", "Gangcheng Qu"),
    ("平阴县", "Pingyin Xian"),
    ("商河县", "Shanghe Xian"),
    ("商河", "Shanghe"),                            # r4: the county, not a river
    # --- Jinan: subdistricts and towns
    ("王舍人街道", "Wangsheren Jiedao"),
    ("甸柳新村街道", "Dianliuxincun Jiedao"),
    ("制锦市街道", "Zhijinshi Jiedao"),              # 市 inside the proper name
    ("营市街街道", "Yingshijie Jiedao"),
    ("港沟街道", "Ganggou Jiedao"),
    ("历城区港沟街道", "Licheng Qu Ganggou Jiedao"),
    ("历下区东市场街", "Lixia Qu Dongshichang Jie"),  # no unit ends inside 市场
    ("济南市市场街", "Jinan Shi Shichang Jie"),      # 市 ends 济南市: 市场 begins after it
    ("柳埠街道", "Liubu Jiedao"),
    ("刁镇", "Diaozhen"),                           # r3, like 江镇 Jiangzhen
    ("口镇街道", "Kouzhen Jiedao"),
    ("东阿镇", "Dong'e Zhen"),                       # r11
    ("大王庄镇", "Dawangzhuang Zhen"),
    ("相公庄街道", "Xianggongzhuang Jiedao"),
    ("孔村镇", "Kongcun Zhen"),
    ("孝里街道", "Xiaoli Jiedao"),
    # --- Jinan: villages (r3)
    ("王村", "Wangcun"),
    ("刘家庄", "Liujiazhuang"),
    ("刘家庄村", "Liujiazhuang Cun"),                # the administrative village of 刘家庄
    # --- Jinan: streets (r1, r2, r4, r6)
    ("解放东路", "Jiefang Donglu"),
    ("黑虎泉西路", "Heihuquan Xilu"),
    ("文化东路", "Wenhua Donglu"),
    ("省府前街", "Shengfu Qianjie"),                  # like 景山后街 Jingshan Houjie
    ("县西巷", "Xianxi Xiang"),                      # 西 stays: one character of proper name would be left
    ("经十路", "Jingshi Lu"),                        # ordinals in pinyin: see romanize()
    ("经二路", "Jing'er Lu"),
    ("芙蓉街", "Furong Jie"),
    ("曲水亭街", "Qushuiting Jie"),
    ("鞭指巷", "Bianzhi Xiang"),
    ("泉城路", "Quancheng Lu"),
    ("大明湖路", "Daminghu Lu"),
    ("花园路", "Huayuan Lu"),
    ("齐鲁大道", "Qilu Dadao"),
    # --- Jinan: springs, lakes, rivers, hills
    ("趵突泉", "Baotu Quan"),
    ("黑虎泉", "Heihu Quan"),
    ("马跑泉", "Mapao Quan"),
    ("墨泉", "Mo Quan"),                             # like 太湖 Tai Hu
    ("王府池子", "Wangfu Chizi"),
    ("大明湖", "Daming Hu"),
    ("百花洲", "Baihua Zhou"),
    ("黄河", "Huang He"),
    ("小清河", "Xiaoqing He"),                       # like 西辽河 Xiliao He
    ("千佛山", "Qianfo Shan"),
    ("华山", "Hua Shan"),
    ("鹊山", "Que Shan"),
    # --- Jinan: parks, buildings, facilities (r14)
    ("泉城广场", "Quancheng Guangchang"),
    ("大明湖公园", "Daminghu Gongyuan"),
    ("千佛山景区", "Qianfoshan Jingqu"),
    ("解放阁", "Jiefang Ge"),
    ("超然楼", "Chaoran Lou"),
    ("棋山国家森林公园", "Qishan Guojia Senlin Gongyuan"),
    ("芙蓉街社区长者助餐点", "Furongjie Shequ Zhangzhe Zhucandian"),
    ("章丘区公益性公墓", "Zhangqiu Qu Gongyixing Gongmu"),
    ("甸柳新村第三社区", "Dianliuxincun Disan Shequ"),  # like 第二松花江 Di'er …: 第X apart
    # --- Jining
    ("济宁市", "Jining Shi"),
    ("济宁市任城区", "Jining Shi Rencheng Qu"),
    ("兖州区", "Yanzhou Qu"),
    ("曲阜市", "Qufu Shi"),
    ("邹城市", "Zoucheng Shi"),
    ("微山县", "Weishan Xian"),
    ("微山湖", "Weishan Hu"),
    ("鱼台县", "Yutai Xian"),
    ("金乡县", "Jinxiang Xian"),
    ("金乡", "Jinxiang"),
    ("嘉祥县", "Jiaxiang Xian"),
    ("汶上县", "Wenshang Xian"),
    ("泗水县", "Sishui Xian"),
    ("梁山县", "Liangshan Xian"),
    ("长沟镇", "Changgou Zhen"),
    ("柘沟镇", "Zhegou Zhen"),
    ("夏镇街道", "Xiazhen Jiedao"),
    ("尼山", "Ni Shan"),
    ("南阳湖", "Nanyang Hu"),
    # --- Weifang
    ("潍坊", "Weifang"),
    ("潍坊市", "Weifang Shi"),
    ("潍城区", "Weicheng Qu"),
    ("寒亭区", "Hanting Qu"),
    ("寒亭", "Hanting"),
    ("坊子区", "Fangzi Qu"),
    ("奎文区", "Kuiwen Qu"),
    ("临朐县", "Linqu Xian"),
    ("昌乐县", "Changle Xian"),
    ("寿光市", "Shouguang Shi"),
    ("青州市", "Qingzhou Shi"),
    ("诸城市", "Zhucheng Shi"),
    ("高密市", "Gaomi Shi"),
    ("昌邑市", "Changyi Shi"),
    ("安丘市", "Anqiu Shi"),                         # r11 marks only syllables inside a word
    ("阚家镇", "Kanjia Zhen"),
    ("卜庄镇", "Buzhuang Zhen"),
    ("都昌街道", "Duchang Jiedao"),
    ("云门山", "Yunmen Shan"),
    ("白浪河", "Bailang He"),
    ("弥河", "Mi He"),
]


@pytest.mark.parametrize(("name", "sign"), THREE_CITIES)
def test_names_of_the_three_cities(name, sign):
    assert romanize(name) == sign


def test_the_table_is_large_and_has_no_duplicates():
    names = [n for n, _ in THREE_CITIES]
    assert len(names) >= 60 and len(set(names)) == len(names)


# The rules' own examples (1984), those a name alone can decide.
RULES = [
    ("太行山", "Taihang Shan"), ("松花江", "Songhua Jiang"), ("汾河", "Fen He"), ("太湖", "Tai Hu"),
    ("舟山群岛", "Zhoushan Qundao"), ("台湾海峡", "Taiwan Haixia"), ("青藏高原", "Qingzang Gaoyuan"),
    ("密云水库", "Miyun Shuiku"), ("大运河", "Da Yunhe"), ("永丰渠", "Yongfeng Qu"),
    ("西藏自治区", "Xizang Zizhiqu"), ("江苏省", "Jiangsu Sheng"), ("通县", "Tong Xian"),
    ("西峰镇", "Xifeng Zhen"), ("虹口区", "Hongkou Qu"), ("友谊乡", "Youyi Xiang"), ("京津公路", "Jingjin Gonglu"),
    ("南京路", "Nanjing Lu"), ("滨江道", "Binjiang Dao"), ("横街", "Heng Jie"), ("长安街", "Chang'an Jie"),
    ("大马路", "Da Malu"), ("梧桐巷", "Wutong Xiang"), ("门框胡同", "Menkuang Hutong"),
    # rule 2
    ("西辽河", "Xiliao He"), ("潮白新河", "Chaobai Xinhe"), ("新通扬运河", "Xintongyang Yunhe"),
    ("北雁荡山", "Beiyandang Shan"), ("小金门岛", "Xiaojinmen Dao"), ("景山后街", "Jingshan Houjie"),
    ("造币左路", "Zaobi Zuolu"), ("清波门直街", "Qingbomen Zhijie"), ("后赵家楼胡同", "Houzhaojialou Hutong"),
    ("南小街", "Nanxiaojie"), ("南横东街", "Nanheng Dongjie"), ("修文西小巷", "Xiuwen Xixiaoxiang"),
    ("东直门外南后街", "Dongzhimenwai Nanhoujie"),
    # rule 3
    ("王村", "Wangcun"), ("江镇", "Jiangzhen"), ("周口店", "Zhoukoudian"), ("铁匠营", "Tiejiangying"),
    ("龙王集", "Longwangji"),
    # rule 4
    ("渤海湾", "Bohai Wan"), ("黑龙江省", "Heilongjiang Sheng"), ("景德镇市", "Jingdezhen Shi"),
    ("解放路南小街", "Jiefanglu Nanxiaojie"), ("包头胡同东巷", "Baotouhutong Dongxiang"),
    # rule 5
    ("左权县", "Zuoquan Xian"), ("张之洞路", "Zhangzhidong Lu"), ("欧阳海水库", "Ouyanghai Shuiku"),
    # rule 6
    ("五指山", "Wuzhi Shan"), ("九龙江", "Jiulong Jiang"), ("三门峡", "Sanmen Xia"), ("二道沟", "Erdao Gou"),
    ("三眼井胡同", "Sanyanjing Hutong"), ("八角场东街", "Bajiaochang Dongjie"), ("三八路", "Sanba Lu"),
    ("五一广场", "Wuyi Guangchang"),
    # rule 11
    ("西安", "Xi'an"), ("建瓯", "Jian'ou"), ("天峨", "Tian'e"),
]


@pytest.mark.parametrize(("name", "sign"), RULES)
def test_the_rules_own_examples(name, sign):
    assert romanize(name) == sign


@pytest.mark.parametrize(("name", "sign"), [
    ("经五路", "Jing 5 Lu"), ("二马路", "2 Malu"), ("大川淀一巷", "Dachuandian 1 Xiang"), ("第九弄", "Di-9 Long"),
    ("纬十二路", "Wei 12 Lu"), ("经十东路", "Jing 10 Donglu"),
])
def test_ordinals_in_digits_as_rule_7_writes_them(name, sign):
    assert romanize(name, ordinals="arabic") == sign


def test_ordinals_are_pinyin_by_default_and_only_street_ordinals_become_digits():
    assert romanize("经五路") == "Jingwu Lu"
    assert romanize("五龙潭", ordinals="arabic") == "Wulong Tan"  # a numeral in a name, not an ordinal
    with pytest.raises(ValueError, match="ordinals"):
        romanize("经五路", ordinals="roman")


@pytest.mark.parametrize(("name", "sign"), [
    ("维多利亚花园", "Weiduoliya Huayuan"), ("环球中央大道", "Huanqiuzhongyang Dadao"),
    ("CBD中央路", "CBD Zhongyang Lu"), ("经2路", "Jing 2 Lu"), ("刘家庄村民委员会", "Liujiazhuang Cunmin Weiyuanhui"),
    ("济南市救助管理站", "Jinan Shi Jiuzhu Guanlizhan"), ("大明湖公园管理处", "Daminghu Gongyuan Guanlichu"),
    ("泰山", "Tai Shan"), ("泰山区", "Taishan Qu"), ("单县", "Shan Xian"),
])
def test_generic_terms_letters_digits_and_long_names(name, sign):
    assert romanize(name) == sign


def test_tone_marked_form_has_the_same_words():
    assert to_pinyin("济南市历下区") == "Jǐnán Shì Lìxià Qū"
    assert to_pinyin("解放东路") == "Jiěfàng Dōnglù"
    assert to_pinyin("任城区") == "Rénchéng Qū"
    assert to_pinyin("马跑泉") == "Mǎpáo Quán"


def test_names_with_spaces_and_brackets_are_written_piece_by_piece():
    assert romanize("经十路（东段）") == "Jingshi Lu (Dongduan)"
    assert romanize("泉城路 南口") == "Quancheng Lu Nankou"


def test_generic_list_covers_the_terms_the_issue_names():
    for term in ["省", "市", "县", "区", "自治县", "镇", "乡", "街道", "村", "路", "街", "大街", "大道", "巷", "胡同",
                 "里", "弄", "桥", "山", "河", "湖", "泉", "岛", "港", "湾", "园", "花园", "广场", "公园", "景区",
                 "社区", "小区"]:
        assert term in GENERIC_TERMS, term
    assert list(GENERIC_TERMS) == sorted(GENERIC_TERMS, key=len, reverse=True)


def test_modifiers_move_only_before_street_and_natural_terms():
    assert romanize("综合养老服务中心") == "Zongheyanglao Fuwu Zhongxin"  # not Zongheyang Laofuwu
    assert romanize("长盛北区社区") == "Changshengbeiqu Shequ"
