"""The log parser, on hand-made records and on arbitrary ones (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from onebar.mining.parse import RS, US, iter_records, parse_changes, parse_record, parse_trailers

SHA = "a" * 40


def record(
    *,
    name: bytes = b"Ann",
    email: bytes = b"ann@x.test",
    subject: bytes = b"subject",
    trailers: bytes = b"",
    body: bytes = b"",
    files: bytes = b"",
    parents: bytes = b"",
    encoding: bytes = b"",
) -> bytes:
    fields = [SHA.encode(), parents, name, email, b"1700000000", b"2023-11-14 23:13:20 +0100", name, email,
              b"1700000100", b"2023-11-14 22:15:00 -0230", encoding, subject, trailers, body]  # fmt: skip
    return US.join(fields) + US + (b"\0\n" + files if files else b"")


def test_header_fields() -> None:
    c = parse_record(record(parents=b"b" * 40 + b" " + b"c" * 40))
    assert c is not None
    assert c.sha == SHA
    assert c.parents == ["b" * 40, "c" * 40]
    assert c.author == ("Ann", "ann@x.test")
    assert (c.authored_at, c.author_tz) == (1700000000, 60)
    assert (c.committed_at, c.committer_tz) == (1700000100, -150)


def test_raw_and_numstat_are_joined_by_path() -> None:
    files = (
        b":100644 100644 abc def M\0src/a.py\0:000000 100644 000 123 A\0img.png\0"
        b":100644 000000 abc 000 D\0old.txt\0"
        b"3\t1\tsrc/a.py\x00-\t-\timg.png\x000\t7\told.txt\x00"
    )
    c = parse_record(record(files=files))
    assert c is not None
    by_path = {f.path: f for f in c.files}
    assert (by_path["src/a.py"].status, by_path["src/a.py"].added, by_path["src/a.py"].deleted) == ("M", 3, 1)
    assert by_path["img.png"].binary and by_path["img.png"].added is None and by_path["img.png"].status == "A"
    assert (by_path["old.txt"].status, by_path["old.txt"].deleted) == ("D", 7)


def test_raw_only_has_no_line_counts() -> None:
    changes = parse_changes("\0\n:100644 100644 abc def M\0tab\there.py\0")
    assert [(f.path, f.status, f.added) for f in changes] == [("tab\there.py", "M", None)]


def test_trailers_and_revert() -> None:
    c = parse_record(
        record(
            trailers=b"Reviewed-by: Bob <bob@y.test>\nCo-authored-by: Claude <noreply@anthropic.com>\n",
            body=b"This reverts commit 0123456789abcdef0123456789abcdef01234567.\n",
        )
    )
    assert c is not None
    assert c.trailers == [("reviewed-by", "Bob <bob@y.test>"), ("co-authored-by", "Claude <noreply@anthropic.com>")]
    assert c.revert_of == "0123456789abcdef0123456789abcdef01234567"


def test_trailer_lines_without_a_key_are_ignored() -> None:
    assert parse_trailers("just text\nFixes: abc123\n") == [("fixes", "abc123")]


def test_non_utf8_names_fall_back_to_cp1252_not_replacement_characters() -> None:
    c = parse_record(record(name=b"Jos\xe9 M\xfcller", subject=b"caf\xe9", files=b":100644 100644 a b M\0x\xff.txt\0"))
    assert c is not None
    assert c.author[0] == c.committer[0] == "José Müller"
    assert c.subject == "café"
    assert c.files[0].path == "x\ufffd.txt"  # paths keep replacement characters


def test_non_utf8_names_use_the_commits_declared_encoding() -> None:
    name = "Łukasz Żółw".encode("iso-8859-2")
    c = parse_record(record(name=name, encoding=b"ISO-8859-2"))
    assert c is not None
    assert c.author[0] == "Łukasz Żółw"
    c = parse_record(record(name=name, encoding=b"no-such-codec"))  # an unknown declaration: the fallback
    assert c is not None and c.author[0] == name.decode("cp1252")


def test_stream_split_across_arbitrary_chunks() -> None:
    data = RS + record(subject=b"one") + RS + record(subject=b"two")
    for size in (1, 3, 7, 64, len(data)):
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        assert [c.subject for c in iter_records(chunks)] == ["one", "two"]


_text = st.text(alphabet=st.characters(blacklist_characters="\x1e\x1f\x00\n", blacklist_categories=["Cs"]), max_size=30)


@given(
    name=_text,
    subject=_text,
    paths=st.lists(
        st.text(alphabet=st.characters(blacklist_characters="\x1e\x1f\x00", blacklist_categories=["Cs"]), min_size=1),
        max_size=5,
        unique=True,
    ),
    counts=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), min_size=5, max_size=5),
)
def test_any_record_round_trips(name: str, subject: str, paths: list[str], counts: list[tuple[int, int]]) -> None:
    raw = b"".join(b":100644 100644 a b M\0" + p.encode() + b"\0" for p in paths)
    num = b"".join(f"{a}\t{d}\t".encode() + p.encode() + b"\0" for p, (a, d) in zip(paths, counts, strict=False))
    c = parse_record(record(name=name.encode(), subject=subject.encode(), files=raw + num))
    assert c is not None
    assert c.author[0] == name and c.subject == subject
    assert [(f.path, f.added, f.deleted) for f in c.files] == [
        (p, a, d) for p, (a, d) in zip(paths, counts, strict=False)
    ]
