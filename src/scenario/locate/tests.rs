use super::PathSeg::{Field, Index as At};
use super::*;

fn at<'t>(text: &'t str, path: &[PathSeg<'_>]) -> &'t str {
    let index = Index::new(text);
    &text[index.resolve(path)]
}

const DOC: &str = r##"// a comment with ( and [
Scenario(
name: "a \" ( [ {",
/* nested /* block */ comment ) */
latency: (1, 20),
raw: r#"raw " ) "#,
chr: ')',
map: { "k": [1, 2], x: Foo(3) },
processes: [
    Process(name: "app", threads: [
        Thread(name: "main", steps: [Startup, Sleep(5), Send(socket: "s", bytes: -1.5e-3)]),
    ]),
],
)"##;

/// Brackets nested past [`MAX_DEPTH`] make no nodes: a file of a million `(` (or
/// of `Foo(` calls) is indexed in a few hundred, and what follows them still is.
#[test]
fn values_nested_too_deep_are_left_out() {
    for open in ["(", "[", "{", "Foo("] {
        let text = format!("Scenario(deep: {}, name: \"n\")", open.repeat(1_000_000));
        let index = Index::new(&text);
        assert!(
            index.nodes.len() <= MAX_DEPTH + 2,
            "{open}: {}",
            index.nodes.len()
        );
        let closed = format!(
            "Scenario(deep: {}{}, name: \"n\")",
            open.repeat(1000),
            (if open == "[" {
                "]"
            } else if open == "{" {
                "}"
            } else {
                ")"
            })
            .repeat(1000)
        );
        assert_eq!(at(&closed, &[Field("name")]), "\"n\"", "{open}");
    }
}

#[test]
fn resolves_fields_indices_and_tuples() {
    assert_eq!(at(DOC, &[Field("name")]), r#""a \" ( [ {""#);
    assert_eq!(at(DOC, &[Field("latency"), At(1)]), "20");
    assert_eq!(at(DOC, &[Field("raw")]), "r#\"raw \" ) \"#");
    assert_eq!(at(DOC, &[Field("chr")]), "')'");
    assert_eq!(at(DOC, &[Field("map"), Field("k"), At(1)]), "2");
    assert_eq!(at(DOC, &[Field("map"), Field("x"), At(0)]), "3");
    let step = [
        Field("processes"),
        At(0),
        Field("threads"),
        At(0),
        Field("steps"),
    ];
    let mut path = step.to_vec();
    path.extend([At(1), At(0)]);
    assert_eq!(at(DOC, &path), "5");
    path.truncate(5);
    path.extend([At(2), Field("bytes")]);
    assert_eq!(at(DOC, &path), "-1.5e-3");
    path.truncate(5);
    path.push(At(0));
    assert_eq!(at(DOC, &path), "Startup");
}

#[test]
fn missing_segment_falls_back_to_enclosing_value() {
    let path = [
        Field("processes"),
        At(0),
        Field("threads"),
        At(0),
        Field("os"),
    ];
    assert!(at(DOC, &path).starts_with("Thread(name: \"main\""));
    assert!(at(DOC, &path).ends_with(")])"));
    let key = Index::new(DOC).resolve_key(&[Field("latency")]);
    assert_eq!(&DOC[key], "latency");
}

#[test]
fn path_at_names_the_innermost_value() {
    let index = Index::new(DOC);
    let offset = DOC.find("Sleep(5)").unwrap_or(0) + 6;
    assert_eq!(index.path_at(offset), "processes[0].threads[0].steps[1][0]");
    let offset = DOC.find("\"s\"").unwrap_or(0);
    assert_eq!(
        index.path_at(offset),
        "processes[0].threads[0].steps[2].socket"
    );
}

#[test]
fn never_panics_on_garbage() {
    for text in [
        "",
        "(",
        ")",
        "]]]",
        "r#",
        "r#\"",
        "b'",
        "\"\\",
        "/*",
        "/* /* */",
        "Foo(a: ",
        "x: y:",
        "{:}",
        "#",
        "#![",
        "é(ü: 1)",
        "(((((",
        "[1, 2",
        "-",
        "'\\",
    ] {
        let index = Index::new(text);
        let span = index.resolve(&[Field("a"), At(3)]);
        assert!(span.end <= text.len());
        let _ = index.path_at(text.len());
    }
}

#[test]
fn attributes_and_unclosed_input() {
    let text = "#![enable(implicit_some)]\nScenario(name: \"x\", steps: [Sleep(";
    let index = Index::new(text);
    assert_eq!(&text[index.resolve(&[Field("name")])], "\"x\"");
    assert_eq!(index.resolve(&[Field("steps"), At(0)]).end, text.len());
}
