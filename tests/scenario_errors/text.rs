//! Where an error is placed in the text: comments, line ends of every kind, files in
//! UTF-16, columns in characters, and what RON skips as white space.

use super::*;

/// Comments at the edges of a file: ron alone misreads a `//` comment that ends the
/// file without a newline, and places an unclosed `/*` after its opening.
#[test]
fn comments_at_the_end_of_a_file_are_read_as_comments() {
    let message = |text: &str| {
        let err = scenario::load_str("input.ron", text).expect_err("refused");
        (err.line_column(), err.messages().join("\n"))
    };
    for text in ["// only a comment", "  // only a comment\n", "/* a */ // b"] {
        let (at, said) = message(text);
        assert_eq!(at, Some((1, 1)), "{text:?}: {said}");
        assert!(said.contains("the file holds only comments"), "{said}");
    }
    // Cut off inside a line comment: the same error as with the newline.
    let cut = "Scenario(\n  name: \"x\", // With a comment cut";
    assert_eq!(message(cut), message(&format!("{cut}\n")));
    assert!(message(cut).1.contains("its closing bracket is missing"));
    let (at, said) = message("Scenario(\n  name: \"x\", /* never closed\n");
    assert_eq!(at, Some((2, 14)), "{said}");
    assert!(said.contains("a `/*` comment is never closed"), "{said}");
    // Comments nest: the one left open is the outer one, not the last `/*`, which is
    // closed; a `/*` in a string or in a closed comment is none.
    for (text, column) in [
        ("/* /* */\nScenario(name: \"x\")\n", 1),
        ("/* a */ /* b /* c */\nScenario(name: \"x\")\n", 9),
        ("Scenario(name: \"/*\", /* a /* b */ c\n", 22),
        ("/* /* */ */ /* /*\nScenario(name: \"x\")\n", 13),
    ] {
        let (at, said) = message(text);
        assert_eq!(at, Some((1, column)), "{text:?}: {said}");
        assert!(said.contains("a `/*` comment is never closed"), "{said}");
    }
}

/// `via: "sandrv"` is answered with the form that works, `San("sandrv")`, and that form
/// loads (issue 23: the old hint, a bare name, led to a second error).
#[test]
fn a_quoted_via_is_answered_with_the_san_form() {
    let file = |via: &str| {
        format!(
            r#"Scenario(name: "x", about: "y",
  providers: [Provider(name: "msafd", kind: Transport), Provider(name: "sandrv", kind: San)],
  catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
  processes: [Process(name: "a", threads: [Thread(name: "t", steps: [
    Startup, Socket(name: "s", entry: 1001, via: {via})])])])"#
        )
    };
    let err = scenario::load_str("via.ron", &file("\"sandrv\"")).expect_err("refused");
    let text = err.render_plain();
    assert!(text.contains(r#"`San("sandrv")`"#), "{text}");
    assert!(scenario::load_str("via.ron", &file(r#"San("sandrv")"#)).is_ok());
}

/// One column per error: the headline's, in characters. A line with letters of more
/// than one byte before the error does not get a second, byte-counted column in the
/// excerpt's header.
#[test]
fn the_column_is_given_once_in_characters() {
    let text = "Scenario(name: \"col\", about: \"x\", providers: [],\n    processes: [Process(name: \"\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\", threads: [Thread(name: \"t\", steps: [Sleep(-1)])])],\n)\n";
    let error = scenario::load_bytes("col.ron", text.as_bytes().to_vec()).expect_err("refused");
    let column = text
        .lines()
        .nth(1)
        .expect("line 2")
        .chars()
        .position(|c| c == '-');
    assert_eq!(error.line_column(), Some((2, column.expect("a minus") + 1)));
    let plain = error.render_plain();
    assert!(
        plain.contains(&format!("col.ron:2:{}:", column.expect("a minus") + 1)),
        "{plain}"
    );
    assert!(plain.contains("\u{256d}\u{2500}[col.ron]\n"), "{plain}");
}

/// Lines that end in a `\r` alone (old Mac files) are lines too: the error is placed and
/// quoted as in the same file with `\n` (a `\r` printed raw would move the cursor back).
#[test]
fn a_file_whose_lines_end_in_a_return_alone_is_placed_by_its_lines() {
    let text = "Scenario(\n    name: \"cr\",\n    about: \"x\",\n    providers: [],\n    processes: [Process(name: \"a\", threads: [Thread(name: \"t\", steps: [Sleep(-1)])])],\n)\n";
    let unix = scenario::load_bytes("cr.ron", text.as_bytes().to_vec()).expect_err("refused");
    let mac = text.replace('\n', "\r");
    let old = scenario::load_bytes("cr.ron", mac.into_bytes()).expect_err("refused");
    assert_eq!(old.line_column(), unix.line_column());
    assert_eq!(old.line_column().map(|(line, _)| line), Some(5));
    let plain = old.render_plain();
    assert!(
        plain.contains(" 5 \u{2502}     processes: [Process("),
        "{plain}"
    );
    assert!(!plain.contains('\r'), "{plain:?}");
}

/// In a file of `\n` lines, a `\r` alone (a stray one, in a block comment say) ends no line,
/// as RON and `grep -n` read it: the lines after it keep their numbers, and the
/// quote shows it as a visible character.
#[test]
fn a_stray_return_in_a_file_of_newline_lines_ends_no_line() {
    let text = "Scenario(\n    name: \"cr\", /* a\rb */\n    about: \"x\", /* c\rd */\n    providers: [],\n    processes: [Process(name: \"a\", threads: [Thread(name: \"t\", steps: [Sleep(-1)])])], /* e\rf */\n)\n";
    let err = scenario::load_bytes("cr.ron", text.as_bytes().to_vec()).expect_err("refused");
    assert_eq!(err.line_column().map(|(line, _)| line), Some(5));
    let plain = err.render_plain();
    // The line quoted whole, its stray `\r` shown as a visible character.
    assert!(
        plain.contains(" 5 \u{2502}     processes: [Process(") && plain.contains("/* e?f"),
        "{plain}"
    );
    assert!(!plain.contains('\r'), "{plain:?}");
}

/// A scenario or model file saved as UTF-16 (Notepad's "Unicode", PowerShell 5's `>`)
/// is refused as such, not as bytes that are not UTF-8 with a quote of them: with a
/// byte-order mark, and without one (told by the zero byte beside each ASCII one), in
/// either byte order; a model file is still called one.
#[test]
fn a_file_in_utf16_is_named_so() {
    let text = "Scenario(name: \"w\", about: \"x\")\n";
    let model = "Model(name: \"w\", kind: Transport)\n";
    for (text, bom, little) in [
        (text, true, true),
        (text, false, true),
        (text, false, false),
        (model, false, true),
    ] {
        let mut wide = match (bom, little) {
            (false, _) => Vec::new(),
            (true, true) => vec![0xff, 0xfe],
            (true, false) => vec![0xfe, 0xff],
        };
        for unit in text.encode_utf16() {
            wide.extend(if little {
                unit.to_le_bytes()
            } else {
                unit.to_be_bytes()
            });
        }
        let Err(err) = scenario::check_bytes("wide.ron", wide) else {
            panic!("accepted");
        };
        let plain = err.render_plain();
        assert!(plain.contains("the file is UTF-16 text"), "{plain}");
        let kind = if text == model {
            "model file"
        } else {
            "scenario file"
        };
        assert!(plain.contains(kind), "{plain}");
        assert!(err.line_column().is_none(), "{plain}");
    }
    // A UTF-8 file with NUL bytes beside its first characters (a damaged one, which the
    // soak met) is no UTF-16 text: it is refused at a place in it.
    let damaged = b"/\0/\0 a comment\nScenario(name: \"w\")\n".to_vec();
    let Err(err) = scenario::check_bytes("nul.ron", damaged) else {
        panic!("accepted");
    };
    assert!(err.line_column().is_some(), "{}", err.render_plain());
}

/// A value the file quotes back in a message stays on the message's line: a line break
/// inside an unknown contract id is written as an escape.
#[test]
fn a_line_break_in_a_quoted_value_is_escaped_in_the_message() {
    let text = "Scenario(\n    name: \"n\",\n    about: \"x\",\n    providers: [],\n    processes: [],\n    expect: Expect(violations: [\"wsp.cleanup.refcount\\n\"]),\n)\n";
    let err = scenario::load_bytes("n.ron", text.as_bytes().to_vec()).expect_err("refused");
    let message = err.messages().join("|");
    assert!(message.contains("refcount\\u{a}`"), "{message}");
    assert!(!message.contains('\n'), "{message:?}");
}

/// RON skips Unicode's Pattern_White_Space between tokens, beyond ASCII's: NEL, the two
/// direction marks, the line and paragraph separators (and VT, FF, and a carriage
/// return alone). An editor may show the line breaks among them as new lines, which
/// ws2sim's positions do not count (an error below one was placed a line too high), and
/// the direction marks as nothing: each is refused where it stands, in a scenario and a
/// model file alike. A CRLF file, and a file of CR line ends, still read.
#[test]
fn a_blank_that_reads_otherwise_is_refused_where_it_stands() {
    let text = |mark: &str| {
        format!(
            r#"Scenario(
    name: "marks",
    about: "Blanks RON skips, at a line's end in a list.",
    providers: [Provider(name: "msafd", kind: Transport)],
    catalog: [
        Transport(id: 1001, provider: "msafd", protocol: Tcp),{mark}
        Transport(id: 1002, provider: "msafd", protocol: Udp),
    ],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [Startup])])],
)
"#
        )
    };
    let model_text = std::fs::read_to_string("models/acme-tcp.ron").expect("shipped");
    let column = "        Transport(id: 1001, provider: \"msafd\", protocol: Tcp),".len() + 1;
    scenario::load_str("marks.ron", &text("")).unwrap_or_else(|e| panic!("{}", e.render_plain()));
    for mark in [
        '\r', '\u{85}', '\u{200E}', '\u{200F}', '\u{2028}', '\u{2029}', '\u{B}', '\u{C}',
    ] {
        let code = format!("U+{:04X}", mark as u32);
        // Followed by a space, so that a carriage return stands alone.
        let err = scenario::load_str("marks.ron", &text(&format!("{mark} "))).expect_err(&code);
        let plain = err.render_plain();
        assert!(
            plain.contains(&format!("{code} (")) && plain.contains("stands between tokens"),
            "{plain}"
        );
        assert_eq!(err.line_column(), Some((6, column)), "{code}: {plain}");
        let model = model_text.replacen("Model(", &format!("Model({mark} "), 1);
        let err = scenario::load_model_str("marks.ron", &model).expect_err(&code);
        assert!(err.render_plain().contains(&format!("{code} (")), "{code}");
        // Right after a word, where the word's bytes run on.
        let after_word = text("").replacen("protocol: Tcp)", &format!("protocol: Tcp{mark} )"), 1);
        let err = scenario::load_str("marks.ron", &after_word).expect_err(&code);
        assert_eq!(
            err.line_column(),
            Some((6, column - 2)),
            "{code}: after a word"
        );
    }
    let crlf = text("").replace('\n', "\r\n");
    scenario::load_str("crlf.ron", &crlf).unwrap_or_else(|e| panic!("{}", e.render_plain()));
    let cr = text("").replace('\n', "\r");
    scenario::load_str("cr.ron", &cr).unwrap_or_else(|e| panic!("{}", e.render_plain()));
}

/// A `//` comment ends only at a line feed: a character an editor shows as a line
/// break inside one (a lone carriage return, a vertical tab or form feed, NEL, the line
/// and paragraph separators) would hide what follows it on the line, so it is refused at
/// its place, in a scenario and a model file alike. Each passed `check` and ran with
/// the hidden `seed: 7` left out. In a CRLF file the line ends still read as LF.
#[test]
fn a_line_break_an_editor_shows_inside_a_comment_is_refused() {
    let scenario_text = "Scenario(\n    name: \"s\",\n    about: \"x\",\n    // the seed that shows it\n    seed: 1,\n    providers: [],\n    processes: [Process(name: \"p\", threads: [Thread(name: \"t\", steps: [Sleep(1)])])],\n)\n";
    let model_text = std::fs::read_to_string("models/acme-tcp.ron").expect("shipped");
    let model_text = model_text.replacen("Model(", "Model(\n    // about it\n", 1);
    let column = "    // the seed that shows it".len() + 1;
    for hidden in ['\r', '\u{0B}', '\u{0C}', '\u{85}', '\u{2028}', '\u{2029}'] {
        let code = format!("U+{:04X}", hidden as u32);
        let text = scenario_text.replace(
            "shows it\n    seed: 1",
            &format!("shows it{hidden}    seed: 7"),
        );
        let err = scenario::load_str("hidden.ron", &text).expect_err(&code);
        let plain = err.render_plain();
        assert!(plain.contains(&format!("{code} (")), "{plain}");
        assert!(plain.contains("inside a `//` comment"), "{plain}");
        assert!(!plain.contains('\r'), "{plain:?}");
        assert_eq!(err.line_column(), Some((4, column)), "{plain}");
        let text = model_text.replacen("about it\n", &format!("about it{hidden}  \n"), 1);
        let err = scenario::load_model_str("hidden.ron", &text).expect_err(&code);
        assert!(
            err.render_plain().contains("inside a `//` comment"),
            "{code}"
        );
        assert_eq!(
            err.line_column(),
            Some((6, "    // about it".len() + 1)),
            "{code}"
        );
    }
    let crlf = scenario_text.replace('\n', "\r\n");
    scenario::load_str("crlf.ron", &crlf).unwrap_or_else(|e| panic!("{}", e.render_plain()));
}

/// A space RON does not read where a file's first word should stand (a second
/// byte-order mark, a no-break space before the opening comments, a zero-width space
/// before `Scenario(`) is named there, in a scenario and a model file alike: it was
/// called "not a ws2sim scenario", or RON's error pointed at the first word after it.
/// And `check` calls a model file it cannot decode a model file.
#[test]
fn a_space_ron_does_not_read_before_the_first_word_is_named() {
    let scenario_text =
        "// a comment\nScenario(name: \"s\", about: \"x\", providers: [], processes: [])\n";
    let model_text = std::fs::read_to_string("models/acme-tcp.ron").expect("shipped");
    let bom = "\u{feff}";
    let cases = [
        (
            format!("{bom}{bom}{scenario_text}"),
            "second byte-order mark",
            (1, 1),
        ),
        (format!("\u{a0}{scenario_text}"), "U+00A0", (1, 1)),
        (
            scenario_text.replace("Scenario(", "\u{200b}Scenario("),
            "U+200B",
            (2, 1),
        ),
        (format!("\u{a0}{model_text}"), "U+00A0", (1, 1)),
        (
            format!("{bom}{bom}{model_text}"),
            "second byte-order mark",
            (1, 1),
        ),
    ];
    for (text, named, at) in cases {
        let err = match scenario::check_bytes("odd.ron", text.into_bytes()) {
            Err(err) => err,
            Ok(_) => panic!("{named}: accepted"),
        };
        let plain = err.render_plain();
        assert!(plain.contains(named), "{plain}");
        assert!(plain.contains("stands between tokens"), "{plain}");
        assert_eq!(err.line_column(), Some(at), "{plain}");
    }
    let mut wide = vec![0xfe, 0xff];
    for unit in model_text.encode_utf16() {
        wide.extend(unit.to_be_bytes());
    }
    let latin1 = model_text.replacen("mistakes", "mistak\u{e9}s", 1);
    let latin1: Vec<u8> = latin1.chars().map(|ch| ch as u32 as u8).collect();
    for bytes in [wide, latin1] {
        let err = match scenario::check_bytes("odd.ron", bytes) {
            Err(err) => err,
            Ok(_) => panic!("accepted"),
        };
        let plain = err.render_plain();
        assert!(plain.contains("model file"), "{plain}");
        assert!(!plain.contains("scenario file"), "{plain}");
    }
}

/// A number with a type suffix is quoted whole (`512u8`, not `u8`), and RON's "an
/// 32-bit" reads "a 32-bit".
#[test]
fn a_suffixed_number_is_quoted_whole_and_its_type_in_english() {
    let lesson =
        std::fs::read_to_string("scenarios/contracts/lingering-data.ron").expect("shipped");
    let (at, _) = lesson.split_once("bytes: ").expect("a Send");
    let with = |value: &str| {
        format!(
            "{at}bytes: {value}{}",
            &lesson[at.len() + 7..].trim_start_matches(|c: char| c.is_ascii_digit())
        )
    };
    let err = scenario::load_str("n.ron", &with("512u8")).expect_err("refused");
    let message = err.messages().join("|");
    assert!(
        message.contains("number `512u8` is out of range"),
        "{message}"
    );
    // Placed where the number begins, not at its suffix.
    let line = at.matches('\n').count() + 1;
    let column = at.len() - at.rfind('\n').map_or(0, |i| i + 1) + "bytes: ".len() + 1;
    assert_eq!(err.line_column(), Some((line, column)), "{message}");
    let err = scenario::load_str("n.ron", &with("5i8")).expect_err("refused");
    let message = err.messages().join("|");
    assert!(
        message.contains("expected a 32-bit unsigned integer"),
        "{message}"
    );
}

/// A string left without its closing quote runs on to the next string's opening one,
/// and RON stops on a later line, asking for a comma: the error is placed at the string
/// that is open (and for `about`, which may span lines, when RON stops right after it).
#[test]
fn a_string_left_open_is_named_where_it_opens() {
    let lesson = std::fs::read_to_string("scenarios/teach/racy-refcount.ron").expect("shipped");
    let line_of = |needle: &str| {
        lesson[..lesson.find(needle).expect("there")]
            .matches('\n')
            .count()
            + 1
    };
    for (broken, needle) in [
        (
            lesson.replacen("name: \"app\",", "name: \"app,", 1),
            "name: \"app\",",
        ),
        (
            lesson.replacen("name: \"client-a\"", "name: \"client-a", 1),
            "name: \"client-a\"",
        ),
        (
            lesson.replacen("break the count.\",", "break the count.,", 1),
            "about: \"Two SPI clients",
        ),
    ] {
        let err = scenario::load_str("open.ron", &broken).expect_err("refused");
        let message = err.messages().join("|");
        assert!(message.contains("closing `\"` is missing"), "{message}");
        assert_eq!(
            err.line_column().map(|(line, _)| line),
            Some(line_of(needle)),
            "{message}"
        );
    }
    // Open to the end of the file: said so, not a line past the last.
    let cut = lesson.find("name: \"client-b").expect("there") + "name: \"client-b".len();
    let open = &lesson[..cut];
    let err = scenario::load_str("open.ron", open).expect_err("refused");
    let message = err.messages().join("|");
    assert!(message.contains("to the end of the file"), "{message}");
    // Not a string left open: a closed `about` over two lines, or a closed name over
    // two lines, followed by a missing comma; RON's own error stands.
    let about = lesson.replacen("break the count.\",", "break\nthe count.\"", 1);
    let name = lesson.replacen("name: \"client-a\", steps", "name: \"client\n-a\" steps", 1);
    for closed in [about, name] {
        let err = scenario::load_str("closed.ron", &closed).expect_err("refused");
        let message = err.messages().join("|");
        assert!(!message.contains("is missing"), "{message}");
        assert!(message.contains("expected `,`"), "{message}");
    }
}
