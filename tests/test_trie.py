from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lazyrouter._trie import PARAM, SegmentTrie


def make_trie(*entries: tuple[list[object], str, bool], static_paths: bool = False) -> SegmentTrie[str]:
    """`static_paths`: insert templates with no parameter by their path (`insert_static`)."""
    trie: SegmentTrie[str] = SegmentTrie()
    for order, (segments, value, catch_all) in enumerate(entries):
        if static_paths and segments and not catch_all and PARAM not in segments:
            trie.insert_static("/" + "/".join(map(str, segments)), value, order)
        else:
            trie.insert(segments, value, order=order, catch_all=catch_all)  # type: ignore[arg-type]
    return trie


ROUTES = make_trie(
    (["users", PARAM], "user", False),  # /users/{id}
    (["users", "me"], "me", False),  # /users/me
    (["users", ""], "users_slash", False),  # /users/
    (["users"], "users", False),  # /users
    ([""], "root", False),  # /
    (["static"], "static_mount", True),  # Mount("/static")
    (["files", PARAM], "files", True),  # /files/{rest:path}
    (["", ""], "empty", False),  # "//"
)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("/users/42", ["user"], id="param"),
        pytest.param("/users/me", ["user", "me"], id="static-and-param-in-registration-order"),
        pytest.param("/users/", ["users_slash"], id="trailing-slash-is-an-empty-segment"),
        pytest.param("/users", ["users"], id="no-trailing-slash"),
        pytest.param("/", ["root"], id="root"),
        pytest.param("/usersX", [], id="segment-boundary-not-a-string-prefix"),
        pytest.param("/users/42/posts", [], id="too-deep"),
        pytest.param("/static", ["static_mount"], id="catch-all-at-its-own-node"),
        pytest.param("/static/css/site.css", ["static_mount"], id="catch-all-below"),
        pytest.param("/staticX/a", [], id="catch-all-respects-segment-boundary"),
        pytest.param("/files/a/b/c", ["files"], id="path-param-catch-all"),
        pytest.param("/files/", [], id="param-needs-a-character"),
        pytest.param("//", ["empty"], id="double-slash"),
        pytest.param("", [], id="empty-path-has-no-segment"),
    ],
)
def test_lookup(path: str, expected: list[str]) -> None:
    assert ROUTES.lookup(path) == expected


def test_lookup_merges_branches_by_order() -> None:
    trie = make_trie(
        (["a", PARAM], "a_param", False),
        ([], "root_catch_all", True),
        (["a", "b"], "a_b", False),
        (["a"], "a_catch_all", True),
    )
    assert trie.lookup("/a/b") == ["a_param", "root_catch_all", "a_b", "a_catch_all"]
    assert trie.lookup("/zzz") == ["root_catch_all"]


def test_len_counts_inserted_values() -> None:
    assert len(ROUTES) == 8
    assert len(SegmentTrie()) == 0


def test_lookup_survives_hostile_paths() -> None:
    assert ROUTES.lookup("/" + "a/" * 10_000) == []
    assert ROUTES.lookup("/users/" + "x" * 65_536) == ["user"]
    assert ROUTES.lookup("/users/\x00") == ["user"]


segment = st.sampled_from(["a", "b", "c", ""])


@given(
    templates=st.lists(st.tuples(st.lists(st.one_of(segment, st.just(PARAM)), max_size=4), st.booleans()), max_size=12),
    path=st.lists(segment, min_size=1, max_size=5),
    static_paths=st.booleans(),
)
def test_lookup_returns_exactly_the_matching_templates(
    templates: list[tuple[list[object], bool]], path: list[str], static_paths: bool
) -> None:
    """The trie returns every matching template, in order, and nothing else
    (inserted by segments, or by path where the template has no parameter)."""
    entries = [(segments, str(i), catch_all) for i, (segments, catch_all) in enumerate(templates)]
    trie = make_trie(*entries, static_paths=static_paths)

    def matches(segments: list[object], catch_all: bool) -> bool:
        if len(path) < len(segments) or (not catch_all and len(path) != len(segments)):
            return False
        return all(s is PARAM and p != "" or s == p for s, p in zip(segments, path[: len(segments)], strict=True))

    expected = [str(i) for i, (segments, catch_all) in enumerate(templates) if matches(segments, catch_all)]
    assert trie.lookup("/" + "/".join(path)) == expected


def test_the_parameter_key_reads_as_param_in_debug_output() -> None:
    assert repr(["users", PARAM]) == "['users', PARAM]"
