"""The voice-assistant domain of the demo models: sentence templates in English and Mandarin.

`sentences(language)` enumerates the whole (finite) sentence space; `is_heldout(text)` splits it by a hash
of the text, so held-out sentences never occur in training. English is lower case with numbers as
words; Mandarin uses characters, numbers included, without spaces or punctuation.
"""
from __future__ import annotations

import hashlib
import itertools

EN_ROOMS = ["kitchen", "bedroom", "living room", "bathroom", "office", "garage", "hallway", "dining room",
            "kids room", "basement", "guest room", "attic", "laundry room", "porch"]
EN_DEVICES = ["lights", "lamp", "fan", "heater", "tv", "air conditioner", "radio", "speaker", "coffee machine",
              "dishwasher", "washing machine", "oven", "humidifier", "curtains", "music", "computer"]
EN_DOORS = ["front", "back", "garage", "side", "patio", "cellar"]
EN_UNITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
EN_TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
            "nineteen"]
EN_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
EN_DIGITS = ["zero", *EN_UNITS]
EN_NAMES = ["mom", "dad", "alice", "bob", "grandma", "grandpa", "peter", "susan", "james", "linda", "the office",
            "the doctor", "my sister", "my brother"]
EN_COLORS = ["red", "blue", "green", "yellow", "purple", "orange", "white", "pink", "warm white"]
EN_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def en_number(n: int) -> str:
    if n < 10:
        return EN_UNITS[n - 1] if n else "zero"
    if n < 20:
        return EN_TEENS[n - 10]
    tens, unit = divmod(n, 10)
    return EN_TENS[tens - 2] + ("" if unit == 0 else " " + EN_UNITS[unit - 1])


def _en_times() -> list[str]:
    out = []
    for hour in range(1, 13):
        h = en_number(hour)
        out += [f"{h} o'clock".replace("'", ""), f"{h} thirty", f"{h} fifteen", f"{h} forty five", f"{h} am",
                f"{h} pm"]
    return out + ["noon", "midnight"]


ZH_ROOMS = ["客厅", "卧室", "厨房", "书房", "浴室", "车库", "阳台", "餐厅", "儿童房", "走廊", "地下室", "主卧", "次卧"]
ZH_DEVICES = ["灯", "台灯", "风扇", "空调", "电视", "暖气", "音箱", "收音机", "加湿器", "窗帘", "洗衣机", "烤箱",
              "热水器", "电脑", "扫地机器人", "咖啡机"]
ZH_DOORS = ["前门", "后门", "车库门", "大门", "侧门", "阳台门"]
ZH_DIGITS = "零一二三四五六七八九"
ZH_NAMES = ["妈妈", "爸爸", "奶奶", "爷爷", "姐姐", "哥哥", "老王", "小李", "张医生", "公司", "弟弟", "妹妹"]
ZH_COLORS = ["红色", "蓝色", "绿色", "黄色", "紫色", "白色", "暖色"]
ZH_DAYS = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期天"]


def zh_number(n: int) -> str:
    if n < 10:
        return ZH_DIGITS[n]
    tens, unit = divmod(n, 10)
    return ("" if tens == 1 else ZH_DIGITS[tens]) + "十" + ("" if unit == 0 else ZH_DIGITS[unit])


def _zh_times() -> list[str]:
    out = []
    for hour in range(1, 13):
        h = "两" if hour == 2 else zh_number(hour)
        out += [f"{h}点", f"{h}点半", f"{h}点十五分", f"早上{h}点", f"晚上{h}点", f"下午{h}点半"]
    return out


def _phone_numbers(digits: list[str], joiner: str, count: int = 60) -> list[str]:
    numbers = []
    for i in range(count):
        length = 3 + (i * 7) % 5
        numbers.append(joiner.join(digits[(i * 31 + k * 17 + k * k * i) % 10] for k in range(length)))
    return numbers


def english() -> list[str]:
    nums = [en_number(n) for n in range(1, 100)]
    out = [f"turn {state} the {room} {device}" for state in ("on", "off") for room in EN_ROOMS for device in EN_DEVICES]
    out += [f"switch {state} the {device} in the {room}" for state in ("on", "off") for room in EN_ROOMS
            for device in EN_DEVICES]
    out += [f"{verb} the {room} lights" for verb in ("dim", "brighten") for room in EN_ROOMS]
    out += [f"set the {room} lights to {color}" for room in EN_ROOMS for color in EN_COLORS]
    out += [f"{verb} the {door} door" for verb in ("lock", "unlock", "open", "close") for door in EN_DOORS]
    out += [f"is the {door} door locked" for door in EN_DOORS]
    out += [f"set a timer for {n} {unit}" for n in nums for unit in ("minutes", "seconds", "hours")]
    times = _en_times()
    out += [f"{lead} {t}" for lead in ("set an alarm for", "wake me up at", "remind me at") for t in times]
    out += [f"set an alarm for {t} on {day}" for t in times[::5] for day in EN_DAYS]
    out += ["cancel the timer", "cancel the alarm", "stop the alarm", "how much time is left on the timer",
            "snooze the alarm for ten minutes"]
    out += [f"set the volume to {n} percent" for n in nums]
    out += [f"turn the volume {d}" for d in ("up", "down")] + ["mute the speaker", "unmute the speaker"]
    out += [f"{verb} {name}" for verb in ("call", "text", "video call") for name in EN_NAMES]
    out += [f"{verb} {number}" for verb in ("call", "dial") for number in _phone_numbers(EN_DIGITS, " ")]
    out += ["what time is it", "what is the time", "what is the date today", "what day is it today",
            "what day is tomorrow", "what is the date tomorrow", "how many days until friday"]
    out += [f"what is the date on {day}" for day in EN_DAYS]
    out += [f"what is the temperature in the {room}" for room in EN_ROOMS]
    out += [f"set the {room} temperature to {en_number(n)} degrees" for room in EN_ROOMS for n in range(16, 29)]
    return sorted(set(out))


def chinese() -> list[str]:
    nums = [zh_number(n) for n in range(1, 100)]
    out = [f"{verb}{room}的{device}" for verb in ("打开", "关闭", "关掉") for room in ZH_ROOMS for device in ZH_DEVICES]
    out += [f"把{room}的灯调{way}一点" for room in ZH_ROOMS for way in ("亮", "暗")]
    out += [f"把{room}的灯调成{color}" for room in ZH_ROOMS for color in ZH_COLORS]
    out += [f"{verb}{door}" for verb in ("锁上", "打开", "关上") for door in ZH_DOORS]
    out += [f"{door}锁了吗" for door in ZH_DOORS]
    out += [f"设置一个{n}{unit}的定时器" for n in nums for unit in ("分钟", "秒", "小时")]
    times = _zh_times()
    out += [f"{lead}{t}{tail}" for lead, tail in (("定一个", "的闹钟"), ("明天", "叫醒我"), ("", "提醒我"))
            for t in times]
    out += [f"{day}{t}叫醒我" for t in times[::4] for day in ZH_DAYS]
    out += ["取消定时器", "取消闹钟", "关掉闹钟", "定时器还剩多少时间", "闹钟推迟十分钟"]
    out += [f"把音量调到百分之{n}" for n in nums]
    out += ["音量调大一点", "音量调小一点", "静音", "取消静音"]
    out += [f"{verb}{name}" for verb in ("打电话给", "给", "视频通话") for name in ZH_NAMES]
    out += [f"{verb}{number}" for verb in ("打电话给", "拨打") for number in _phone_numbers(list(ZH_DIGITS), "")]
    out += ["现在几点了", "现在几点", "今天几号", "今天星期几", "明天星期几", "明天几号", "离星期五还有几天"]
    out += [f"{room}的温度是多少" for room in ZH_ROOMS]
    out += [f"把{room}的温度调到{zh_number(n)}度" for room in ZH_ROOMS for n in range(16, 29)]
    return sorted(set(out))


SENTENCES = {"English": english, "Chinese": chinese}


def is_heldout(text: str, share: float = 0.1) -> bool:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def sentences(language: str, heldout: bool) -> list[str]:
    return [s for s in SENTENCES[language]() if is_heldout(s) == heldout]


def units(language: str, text: str) -> list[str]:
    """Synthesis and alignment units: words (English) or characters (Chinese, as the official aligner)."""
    return list(text) if language == "Chinese" else text.split()


def vocabulary(language: str) -> set[str]:
    return set(itertools.chain.from_iterable(units(language, s) for s in SENTENCES[language]()))
