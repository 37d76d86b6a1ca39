"""NetHack observations in words: a Python re-implementation of ``NLELanguageObsv``.

BALROG's NetHack and MiniHack text comes from the C++ ``NLELanguageObsv`` of
nle-language-wrapper (PyPI 0.2.0, MIT, N. Goodger; BALROG's balrog-nle fork ships the same
class as ``nle.nle_language_obsv``). That package has no wheel for this Python and its sdist
builds NetHack from source, so this module re-implements its five texts from the game tables
that ``nle==1.3.0`` exposes, following the C++ rules, quirks included:

* ``text_glyphs``: every monster, object and notable map feature (doors, stairs, fountains,
  ...) on screen, plus walls and other features met by rays in the 8 compass directions up
  to 9 cells (stopping at view-blocking features); each named with a distance word
  (adjacent / very near / near / far / very far) and a 16-point direction, sorted by
  distance then direction, same name+distance entries merged ("walls near east and west",
  plurals by the C++ rules);
* ``text_message``: the top tty line, or the lines up to a "--More--"/"(end)"/"(n of m)"
  marker; ``text_blstats``, ``text_inventory`` and ``text_cursor`` as in the C++.

Where ours could differ: warning glyph names are NetHack 3.6's ``def_warnsyms`` texts typed
in here (nle 1.3.0 does not expose that table); everything else is read from nle's tables.
The C++ ``trim`` strips only spaces and ``\\x1a`` (its whitespace literal stops at a NUL);
that quirk is kept. The C++ lists several status conditions in ``std::unordered_map`` order,
which is unspecified; ours lists them in NetHack's mask order.
"""

from __future__ import annotations

from functools import cache

import numpy as np

WIDTH, HEIGHT = 79, 21

CMAP_NAMES = [
    "dark area", "vertical wall", "horizontal wall", "northwest room corner",
    "northeast room corner", "southwest corner", "southeast corner", "cross wall",
    "t up wall", "t down wall", "t west wall", "t east wall", "doorway",
    "vertical open door", "horizontal open door", "vertical closed door",
    "horizontal closed door", "bars", "tree", "room floor", "dark room floor",
    "corridor floor", "lit corridor floor", "stairs up", "stairs down", "ladder up",
    "ladder down", "alter", "grave", "throne", "sink", "fountain", "pool", "ice", "lava",
    "vertical lowered drawbridge", "horizontal lowered drawbridge",
    "vertical raised drawbridge", "horizontal raised drawbridge", "air floor",
    "cloud floor", "water floor", "arrow trap", "dart trap", "falling rock trap",
    "squeaky board", "bear trap", "land mine", "rolling boulder trap", "sleeping gas trap",
    "rust trap", "fire trap", "pit", "spiked pit", "hole", "trap door",
    "teleportation trap", "level teleporter", "magic portal", "web", "statue trap",
    "magic trap", "anti magic trap", "polymorph trap", "vibrating square", "vertical beam",
    "horizontal beam", "left slant beam", "right slant beam", "dig beam", "flash beam",
    "boom left", "boom right", "shield 1", "shield 2", "shield 3", "shield 4",
    "poison cloud", "valid position", "swallow top left", "swallow top center",
    "swallow top right", "swallow middle left", "swallow middle right",
    "swallow bottom left", "swallow bottom center", "swallow bottom right",
    "explosion top left", "explosion top center", "explosion top right",
    "explosion middle left", "explosion middle center", "explosion middle right",
    "explosion bottom left", "explosion bottom center", "explosion bottom right",
]  # fmt: skip
FLOOR = {"room floor", "dark room floor", "corridor floor", "lit corridor floor"}
BLOCKING = {
    "dark area", "vertical wall", "horizontal wall", "northwest room corner",
    "northeast room corner", "southwest corner", "southeast corner", "cross wall",
    "t up wall", "t down wall", "t west wall", "t east wall", "horizontal closed door",
    "vertical closed door", "horizontal raised drawbridge", "vertical raised drawbridge",
}  # fmt: skip
SCREEN_FEATURES = {
    "horizontal closed door", "vertical closed door", "bars", "tree", "stairs up",
    "stairs down", "ladder up", "ladder down", "alter", "grave", "throne", "sink",
    "fountain", "pool", "ice", "lava", "vertical raised drawbridge",
    "horizontal raised drawbridge",
}  # fmt: skip
WARNINGS = [  # NetHack 3.6 def_warnsyms explanations
    "unknown creature causing you worry", "unknown creature causing you concern",
    "unknown creature causing you anxiety", "unknown creature causing you disquiet",
    "unknown creature causing you alarm", "unknown creature causing you dread",
]  # fmt: skip
SWALLOW = CMAP_NAMES[79:87]
EXPLOSION = CMAP_NAMES[87:96]
ZAP = ["horizontal zap beam", "vertical zap beam", "left slant zap beam", "right slant zap beam"]
DISTANCES = ["very far", "far", "near", "very near", "adjacent"]
DIRECTIONS = [
    "north", "northnortheast", "northeast", "eastnortheast", "east", "eastsoutheast",
    "southeast", "southsoutheast", "south", "southsouthwest", "southwest", "westsouthwest",
    "west", "westnorthwest", "northwest", "northnorthwest",
]  # fmt: skip
RAYS = [(1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1)]  # E, SE, ... NE
ALIGNMENT = {-128: "None", 1: "Lawful", 0: "Neutral", -1: "Chaotic"}
HUNGER = {0: "Satiated", 1: "Not Hungry", 2: "Hungry", 3: "Weak", 4: "Fainting",
          5: "Fainted", 6: "Starved"}  # fmt: skip
ENCUMBRANCE = {0: "Unencumbered", 1: "Burdened", 2: "Stressed", 3: "Strained",
               4: "Overtaxed", 5: "Overloaded"}  # fmt: skip


def _object_name(index: int) -> str:
    from nle import nethack as nh

    cls = ord(nh.objclass(index).oc_class)
    descr = nh.objdescr.from_idx(index)
    name, text = descr.oc_name or "", descr.oc_descr or ""
    if cls in (nh.ILLOBJ_CLASS, nh.WEAPON_CLASS, nh.COIN_CLASS, nh.ROCK_CLASS,
               nh.BALL_CLASS, nh.CHAIN_CLASS):  # fmt: skip
        return name
    if cls in (nh.ARMOR_CLASS, nh.TOOL_CLASS):
        return text or name
    if cls == nh.RING_CLASS:
        return text + " ring"
    if cls == nh.AMULET_CLASS:
        return text if "Amulet" in text else text + " amulet"
    if cls == nh.FOOD_CLASS:
        return name + text
    if cls == nh.POTION_CLASS:
        return text + " potion"
    if cls == nh.SCROLL_CLASS:
        return "scroll labeled " + text
    if cls == nh.SPBOOK_CLASS:
        return text + " spellbook"
    if cls == nh.WAND_CLASS:
        return text + " wand"
    if cls == nh.GEM_CLASS:
        return name if text in name else f"{text} {name}"
    if cls == nh.VENOM_CLASS:
        return "splash of " + name
    return ""


@cache
def glyph_names() -> tuple[list[str], list[str]]:
    """(screen names, ray names) per glyph, as the C++ ``build_*_view_glyph_map``."""
    from nle import nethack as nh

    def monster(glyph: int) -> str:
        return nh.permonst(nh.glyph_to_mon(glyph)).mname

    screen, ray = [], []
    for glyph in range(nh.MAX_GLYPH):
        cmap = ""
        if nh.GLYPH_CMAP_OFF <= glyph < nh.GLYPH_EXPLODE_OFF:
            cmap = CMAP_NAMES[nh.glyph_to_cmap(glyph)]
        ray.append(cmap if cmap and cmap not in FLOOR and cmap not in SCREEN_FEATURES else "")
        if glyph >= nh.GLYPH_STATUE_OFF:
            name = monster(glyph) + " statue"
        elif glyph >= nh.GLYPH_WARNING_OFF:
            name = WARNINGS[nh.glyph_to_warning(glyph)]
        elif glyph >= nh.GLYPH_SWALLOW_OFF:
            name = SWALLOW[(glyph - nh.GLYPH_SWALLOW_OFF) % len(SWALLOW)]
        elif glyph >= nh.GLYPH_ZAP_OFF:
            name = ZAP[(glyph - nh.GLYPH_ZAP_OFF) % len(ZAP)]
        elif glyph >= nh.GLYPH_EXPLODE_OFF:
            name = EXPLOSION[(glyph - nh.GLYPH_EXPLODE_OFF) % len(EXPLOSION)]
        elif glyph >= nh.GLYPH_CMAP_OFF:
            name = cmap if cmap in SCREEN_FEATURES else ""
        elif glyph >= nh.GLYPH_OBJ_OFF:
            name = _object_name(nh.glyph_to_obj(glyph))
        elif glyph >= nh.GLYPH_RIDDEN_OFF:
            name = "ridden " + monster(glyph)
        elif glyph >= nh.GLYPH_BODY_OFF:
            name = nh.permonst(glyph - nh.GLYPH_BODY_OFF).mname + " corpse"
        elif glyph >= nh.GLYPH_DETECT_OFF:
            name = "detected " + monster(glyph)
        elif glyph >= nh.GLYPH_INVIS_OFF:
            name = "invisible creature"
        elif glyph >= nh.GLYPH_PET_OFF:
            name = "tame " + monster(glyph)
        else:
            name = monster(glyph)
        screen.append(name)
    return screen, ray


def pluralize(noun: str) -> str:
    """The C++ wrapper's plural rules (mass nouns, a few exceptions, English endings)."""
    if noun.endswith(("boots", "shoes", "scales", "lenses", "bars")):
        return noun
    exceptions = {"can of grease": "cans of grease", "Master of Thieves": "Masters of Thieves",
                  "ice": "area of ice", "lava": "area of lava"}  # fmt: skip
    if noun in exceptions:
        return exceptions[noun]
    for head in ("boom ", "shield ", "swallow ", "scroll ", "worthless piece ",
                 "unknown creature "):  # fmt: skip
        if noun.startswith(head):
            return head[:-1] + "s " + noun[len(head) :]
    if len(noun) >= 2 and noun[-1] == "y" and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    # The C++ also means to match "ch", but its test reads noun[-1] (undefined behaviour,
    # in practice never 'h'), so "ch" takes the plain "s" here as in the binary.
    if noun[-1:] in ("z", "x") or noun[-2:] in ("sh", "ss"):
        return noun + "es"
    if noun[-1:] == "f":
        return noun[:-2] + "ves" if noun[-2:] == "ff" else noun[:-1] + "ves"
    if noun[-1:] == "s":
        return noun + "es"
    return noun + "s"


def distance_word(offset: int) -> str:
    if offset == 1:
        return "adjacent"
    if offset == 2:
        return "very near"
    if 2 < offset < 6:
        return "near"
    if 5 < offset < 20:
        return "far"
    return "very far"


def position_words(x: int, y: int) -> tuple[str, str]:
    """(distance, direction) of an offset with x east and y north of the player."""
    diagonal_steps = min(abs(x), abs(y))
    diagonal = ""
    if diagonal_steps > 0:
        if y < 0:
            diagonal = "southwest" if x < 0 else "southeast"
        else:
            diagonal = "northwest" if x < 0 else "northeast"
    y_rest = y - diagonal_steps if y > 0 else y + diagonal_steps
    x_rest = x - diagonal_steps if x > 0 else x + diagonal_steps
    horizontal = "west" if x_rest < 0 else "east" if x_rest > 0 else ""
    vertical = "south" if y_rest < 0 else "north" if y_rest > 0 else ""
    return distance_word(max(abs(x), abs(y))), vertical + horizontal + diagonal


def _join_directions(directions: list[str]) -> str:
    if len(directions) == 1:
        return directions[0]
    if len(directions) == 2:
        return f"{directions[0]} and {directions[1]}"
    return ", ".join(directions[:-1]) + ", and " + directions[-1]


def text_glyphs(glyphs: np.ndarray, blstats: np.ndarray) -> str:
    screen, ray = glyph_names()
    flat = np.asarray(glyphs).reshape(-1)
    px, py = int(blstats[0]), int(blstats[1])
    entries = []  # (name, distance, direction)
    for index in np.flatnonzero([bool(screen[g]) for g in flat]):
        gx, gy = int(index) % WIDTH, int(index) // WIDTH
        if gx == px and gy == py:
            continue
        distance, direction = position_words(gx - px, py - gy)
        entries.append((screen[flat[index]], distance, direction))
    for dx, dy in RAYS:
        for offset in range(1, 10):
            gx, gy = px + dx * offset, py + dy * offset
            if not (0 <= gx < WIDTH and 0 <= gy < HEIGHT):
                break
            glyph = flat[gx + gy * WIDTH]
            if not screen[glyph] and ray[glyph]:
                distance, direction = position_words(gx - px, py - gy)
                entries.append((ray[glyph], distance, direction))
                if ray[glyph] in BLOCKING:
                    break
    ordered = [e for d in DISTANCES for r in DIRECTIONS for e in entries if e[1:] == (d, r)]
    return "\n".join(f"{name} {distance} {directions}"
                     for name, distance, directions in _merge(ordered))  # fmt: skip


def _merge(entries: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The C++ ``compress_by_glyph``: merge directions, pluralize repeated ones."""
    groups: dict[tuple[str, str], list[str]] = {}
    for name, distance, direction in entries:
        groups.setdefault((name, distance), []).append(direction)
    merged: dict[tuple[str, str], list[str]] = {}
    for (name, distance), directions in groups.items():
        counts: dict[str, int] = {}
        for direction in directions:
            counts[direction] = counts.get(direction, 0) + 1
        single = [d for d, n in counts.items() if n == 1]
        several = [d for d, n in counts.items() if n > 1]
        if single:
            merged[(name, distance)] = single
        if several:
            merged[(pluralize(name), distance)] = several
    return [(name, distance, _join_directions(d)) for (name, distance), d in merged.items()]


def _trim(text: str) -> str:
    """The C++ ``trim``: strips only ' ' and '\\x1a'; a lone last character gives ''."""
    keep = [i for i, ch in enumerate(text) if ch not in " \x1a"]
    if not keep or keep[0] == len(text) - 1:
        return ""
    return text[keep[0] : keep[-1] + 1]


def text_message(tty_chars: np.ndarray) -> str:
    rows = [bytes(row).decode("latin-1") for row in np.asarray(tty_chars, dtype=np.uint8)]
    first = rows[0]
    indent = len(first) - len(first.lstrip(" "))
    first_trimmed = _trim(first)
    if first_trimmed == "":
        return ""
    output = ""
    for row in rows:
        line = _trim(row[indent:])
        of_pos = line.find(" of ")
        paged = (of_pos >= 2 and of_pos + 5 < len(line) and line[of_pos - 2] == "("
                 and line[of_pos + 5] == ")")  # fmt: skip
        output += line
        if paged or "--More--" in line or "(end)" in line:
            return output
        output += "\n"
    return first_trimmed


def text_inventory(inv_strs: np.ndarray, inv_letters: np.ndarray) -> str:
    lines = []
    for letter, raw in zip(np.asarray(inv_letters), np.asarray(inv_strs), strict=True):
        if letter == 0:
            break
        text = bytes(raw).split(b"\x00", 1)[0].decode("latin-1")
        lines.append(f"{chr(letter)}: {text}")
    return "\n".join(lines)


def text_cursor(glyphs: np.ndarray, blstats: np.ndarray, tty_cursor: np.ndarray) -> str:
    screen, _ = glyph_names()
    px, py = int(blstats[0]), int(blstats[1])
    cx, cy = int(tty_cursor[1]), int(tty_cursor[0]) - 1  # the map starts on tty row 1
    rx, ry = cx - px, py - cy
    flat = np.asarray(glyphs).reshape(-1)
    index = cx + cy * WIDTH
    if not (-WIDTH <= rx < WIDTH and -HEIGHT <= ry < HEIGHT and 0 < index < flat.size):
        return ""
    name = screen[flat[index]]
    if rx == 0 and ry == 0:
        return "Yourself a " + name
    distance, direction = position_words(rx, ry)
    return f"{distance} {direction} {name}"


def text_blstats(blstats: np.ndarray) -> str:
    from nle import nethack as nh

    b = [int(v) for v in blstats]
    conditions = [
        (nh.BL_MASK_STONE, "Stoned"), (nh.BL_MASK_SLIME, "Slimed"),
        (nh.BL_MASK_STRNGL, "Strangled"), (nh.BL_MASK_FOODPOIS, "Food Poisoning"),
        (nh.BL_MASK_TERMILL, "Terminally Ill"), (nh.BL_MASK_BLIND, "Blind"),
        (nh.BL_MASK_DEAF, "Deaf"), (nh.BL_MASK_STUN, "Stunned"), (nh.BL_MASK_CONF, "Confused"),
        (nh.BL_MASK_HALLU, "Hallucinating"), (nh.BL_MASK_LEV, "Levitating"),
        (nh.BL_MASK_FLY, "Flying"), (nh.BL_MASK_RIDE, "Riding"),
    ]  # fmt: skip
    active = [name for mask, name in conditions if b[25] & mask]
    lines = [
        f"Strength: {b[3]}/{b[2]}", f"Dexterity: {b[4]}", f"Constitution: {b[5]}",
        f"Intelligence: {b[6]}", f"Wisdom: {b[7]}", f"Charisma: {b[8]}", f"Depth: {b[12]}",
        f"Gold: {b[13]}", f"HP: {b[10]}/{b[11]}", f"Energy: {b[14]}/{b[15]}", f"AC: {b[16]}",
        f"XP: {b[18]}/{b[19]}", f"Time: {b[20]}", f"Position: {b[0]}|{b[1]}",
        f"Hunger: {HUNGER.get(b[21], '')}", f"Monster Level: {b[17]}",
        f"Encumbrance: {ENCUMBRANCE.get(b[22], '')}", f"Dungeon Number: {b[23]}",
        f"Level Number: {b[24]}", f"Score: {b[9]}", f"Alignment: {ALIGNMENT.get(b[26], '')}",
        f"Condition: {' '.join(active) if active else 'None'}",
    ]  # fmt: skip
    return "\n".join(lines)
