from mamori.domain.decision import Finding
from mamori.guard.registry import default_pii_detectors
from mamori.guard.resolve import detect_all, resolve_overlaps


def test_higher_score_wins_an_overlap() -> None:
    weak = Finding("phone", 0, 10, score=0.6)
    strong = Finding("my_number", 0, 12, score=0.99)
    assert resolve_overlaps([weak, strong]) == [strong]


def test_longer_span_wins_a_tie() -> None:
    short = Finding("address", 3, 6, score=0.9)
    long = Finding("address", 0, 20, score=0.9)
    assert resolve_overlaps([short, long]) == [long]


def test_touching_spans_do_not_overlap_and_come_back_in_order() -> None:
    a, b = Finding("person", 5, 9), Finding("phone", 0, 5)
    assert resolve_overlaps([a, b]) == [b, a]


def test_sources_never_compete() -> None:
    user = Finding("phone", 0, 10, source="user")
    doc = Finding("person", 0, 4, source="document")
    assert set(resolve_overlaps([user, doc])) == {user, doc}


def test_empty_spans_are_dropped() -> None:
    assert resolve_overlaps([Finding("phone", 3, 3)]) == []


def test_all_detectors_on_one_letter() -> None:
    text = (
        "〒１００－８１１１ 東京都千代田区千代田１－１　山本　花子 様\n"
        "電話 03-1234-5678／携帯 090ー1234ー5678／hanako@example.jp\n"
        "個人番号 6214 9832 0257、受付番号 621498320258"
    )
    found = {(f.kind, text[f.start : f.end]) for f in detect_all(default_pii_detectors(), text)}
    assert found == {
        ("postal_code", "〒１００－８１１１"),
        ("address", "東京都千代田区千代田１－１"),
        ("person", "山本　花子"),
        ("phone", "03-1234-5678"),
        ("phone", "090ー1234ー5678"),
        ("email", "hanako@example.jp"),
        ("my_number", "6214 9832 0257"),
    }
