"""Time the reviewers' diff on long sections (review and compare grew quadratically).

    .venv/bin/python -m bench.diff_timing            # 10,000 words, 2 % changed
    .venv/bin/python -m bench.diff_timing --words 15000 --changed 0.05 --runs 3

Prints the median time of `diffing.word_diff` and of `diffing.compare` (two snapshots
whose one section holds the long body), for a few shapes of text: ordinary paragraphs,
the same text with no line breaks at all, Chinese, and two unrelated texts. Needs no
database. `sample_bodies` is also what `tests/test_diffing.py` times.
"""

import argparse
import os
import random
import statistics
import sys
import time

# Monograph-like vocabulary: a few very common words (which make naive diffs slow,
# because every occurrence is a candidate match) and a long tail of rarer ones.
COMMON = "the of and to in a or with for is be may take not as by on at if this".split()
TAIL = (
    "dose doses tablet tablets capsule capsules daily twice weekly monthly patient patients renal hepatic "
    "impairment clearance creatinine mg mL kg plasma concentration adverse reaction reactions nausea vomiting "
    "diarrhoea rash neutropenia thrombocytopenia anaemia infection fever headache dizziness fatigue pregnancy "
    "contraception breastfeeding children elderly monitoring blood count liver function tests interrupt "
    "discontinue resume reduce increase interaction inhibitor inducer CYP3A4 warfarin digoxin statin storage "
    "temperature refrigerate protect light moisture swallow whole crush chew food meal water evening morning "
    "cycle days weeks treatment therapy myeloma lymphoma syndrome thromboembolism prophylaxis aspirin heparin "
    "severe mild moderate grade baseline prescribe prescriber pharmacist dispense supply record register "
    "counsel advise report signs symptoms bleeding bruising jaundice urine stools skin reactions allergy"
).split()
CHINESE = "每日服用一次兩三片劑膠囊飯後前睡覺時如有不適請立即停藥並告知醫生藥劑師孕婦哺乳兒童長者肝腎功能減退"


def _word(rng):
    return rng.choice(COMMON) if rng.random() < 0.45 else rng.choice(TAIL)


def sample_bodies(words=10_000, changed=0.02, seed=1, line_breaks=True):
    """Two section bodies of `words` words: in the second, `changed` of the words are
    replaced, deleted or inserted inside their sentences, as an editor revises a long
    section. Sentences have 8-20 words, paragraphs 3-6 sentences."""
    rng = random.Random(seed)  # nosec B311 - test data, not security
    paragraphs, count = [], 0
    while count < words:
        paragraph = []
        for _ in range(rng.randint(3, 6)):
            size = min(rng.randint(8, 20), words - count)
            if size <= 0:
                break
            paragraph.append([_word(rng) for _ in range(size)])
            count += size
        paragraphs.append(paragraph)
    sentences = [sentence for paragraph in paragraphs for sentence in paragraph]
    old = _layout(paragraphs, line_breaks)
    for _ in range(int(words * changed)):
        sentence = rng.choice(sentences)
        i = rng.randrange(len(sentence))
        action = rng.random()
        if action < 0.6:
            sentence[i] = _word(rng)
        elif action < 0.8 and len(sentence) > 1:
            del sentence[i]
        else:
            sentence.insert(i, _word(rng))
    return old, _layout(paragraphs, line_breaks)


def _layout(paragraphs, line_breaks):
    text = [" ".join(" ".join(sentence).capitalize() + "." for sentence in paragraph) for paragraph in paragraphs]
    return ("\n\n" if line_breaks else " ").join(text)


def chinese_bodies(characters=30_000, changed=0.02, seed=1):
    """Chinese text on one line, a full stop every 10-30 characters, `changed` of the characters replaced."""
    rng = random.Random(seed)  # nosec B311 - test data
    old = []
    while len(old) < characters:
        old.extend(rng.choice(CHINESE) for _ in range(rng.randint(10, 30)))
        old.append("。")
    new = list(old)
    for _ in range(int(characters * changed)):
        i = rng.randrange(len(new))
        if new[i] != "。":
            new[i] = rng.choice(CHINESE)
    return "".join(old), "".join(new)


def section_snapshot(body):
    """A snapshot, in the shape of `monographs.snapshots`, with one long section."""
    return {
        "id": 1,
        "generic_name": "Benchmarkamide",
        "slug": "benchmarkamide",
        "synonyms": "",
        "drug_class": "",
        "atc_code": "",
        "sections": [{"id": 10, "kind": "dosage", "heading": "", "position": 1, "body": body}],
        "products": [],
    }


def median_seconds(function, runs):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--changed", type=float, default=0.02, help="Share of words edited (0.02 = 2 %%).")
    parser.add_argument("--runs", type=int, default=5, help="Runs of each case; the median is printed.")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "formulary.settings")
    import django

    django.setup()
    from monographs.diffing import compare, word_diff

    cases = {
        "paragraphs": sample_bodies(args.words, args.changed),
        "one line, no breaks": sample_bodies(args.words, args.changed, line_breaks=False),
        "Chinese, one line": chinese_bodies(3 * args.words, args.changed),
        "unrelated texts": (sample_bodies(args.words, 0, seed=1)[0], sample_bodies(args.words, 0, seed=2)[0]),
    }
    print(f"{args.words:,} words, {args.changed:.0%} changed, median of {args.runs} runs")
    for name, (old, new) in cases.items():
        diff_s = median_seconds(lambda old=old, new=new: str(word_diff(old, new)), args.runs)
        snapshots = section_snapshot(old), section_snapshot(new)
        compare_s = median_seconds(lambda s=snapshots: compare(*s), args.runs)
        print(
            f"  {name:<22} {len(old):>7,} chars  word_diff {diff_s * 1000:8.1f} ms  compare {compare_s * 1000:8.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
