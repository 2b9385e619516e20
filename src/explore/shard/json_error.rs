//! Where a shard document's JSON error is, said as a user reads the file.

/// A JSON reading error as a message, placed at the start of the value or key it is
/// about, its column counted in characters: serde_json places it at that token's last
/// byte. serde_json also reads an integer past 64 bits as a floating-point number and
/// names it so (`floating point 1.8446744073709552e+19`); the document holds an
/// integer, and the message says which.
pub fn json_error(bytes: &[u8], error: &serde_json::Error) -> String {
    let said = error.to_string();
    if error.line() == 0 {
        return said;
    }
    let at = format!(" at line {} column {}", error.line(), error.column());
    let message = said.strip_suffix(&at).unwrap_or(&said);
    // The error's line starts here; its column is a byte's, counted from 1.
    let line_start: usize = (bytes.split(|&b| b == b'\n'))
        .take(error.line() - 1)
        .map(|line| line.len() + 1)
        .sum();
    let last = (line_start + error.column().saturating_sub(1)).min(bytes.len());
    // An error of a value read whole (a wrong type or value, an unknown name, a key
    // given twice) is placed at its last byte: moved back to where it begins. A syntax
    // error, or the text's end, is placed where the reading stopped.
    let start = match error.classify() {
        serde_json::error::Category::Data => token_start(bytes, last).max(line_start),
        _ => last,
    };
    let column = 1 + String::from_utf8_lossy(&bytes[line_start..start])
        .chars()
        .count();
    let placed = format!(" at line {} column {column}", error.line());
    if !said.starts_with("invalid type: floating point") {
        return format!("{message}{placed}");
    }
    let number = &bytes[start..(last + 1).min(bytes.len())];
    // `1.5` and `1e30` hold more than digits: a fraction or an exponent is no integer.
    let integer = number.iter().any(u8::is_ascii_digit)
        && number
            .iter()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || (i == 0 && *b == b'-'));
    if !integer {
        return format!("{message}{placed}");
    }
    format!(
        "the integer {}{placed} is past 64 bits, more than any field of a shard document holds",
        String::from_utf8_lossy(number),
    )
}

/// Where the JSON token whose last byte is at `last` begins: a string's opening quote,
/// or a number's or a word's first character; `last` itself for anything else.
fn token_start(bytes: &[u8], last: usize) -> usize {
    let Some(&end) = bytes.get(last) else {
        return last;
    };
    if end == b'"' {
        // Back to the opening quote: the first one before that no backslash escapes.
        let mut at = last;
        while let Some(quote) = bytes[..at].iter().rposition(|&b| b == b'"') {
            let slashes = bytes[..quote]
                .iter()
                .rev()
                .take_while(|&&b| b == b'\\')
                .count();
            if slashes % 2 == 0 {
                return quote;
            }
            at = quote;
        }
        return last;
    }
    let literal = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-');
    if !literal(&end) {
        return last;
    }
    bytes[..last]
        .iter()
        .rposition(|b| !literal(b))
        .map_or(0, |at| at + 1)
}

#[cfg(test)]
mod tests {
    use super::json_error;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        name: Option<String>,
        n: Option<u64>,
        s: Option<Kind>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Random,
    }

    fn said(text: &str) -> String {
        let error = serde_json::from_str::<Doc>(text).expect_err(text);
        json_error(text.as_bytes(), &error)
    }

    /// An error is placed at the start of its key or value, in characters: serde_json
    /// places it at the token's last byte.
    #[test]
    fn an_error_is_placed_where_its_token_begins() {
        let cases = [
            (r#"{"s":"randomx"}"#, "unknown variant `randomx`", 6),
            (r#"{"name":"日本\"語","s":"x"}"#, "unknown variant `x`", 21),
            (r#"{"n":-7}"#, "invalid value: integer `-7`", 6),
            (r#"{"n":1,"n":2}"#, "duplicate field `n`", 8),
            (r#"{"n":1.5}"#, "invalid type: floating point `1.5`", 6),
            (
                r#"{"name":"é","n":99999999999999999999}"#,
                "the integer 99999999999999999999",
                17,
            ),
            // Syntax errors stay where the reading stopped: at the next key's quote, or
            // at the text's end.
            (r#"{"n":1 "s":"x"}"#, "expected `,` or `}`", 8),
            (r#"{"name":"日本"#, "EOF while parsing a string", 12),
        ];
        for (text, start, column) in cases {
            let said = said(text);
            assert!(said.starts_with(start), "{text}: {said}");
            assert!(
                said.contains(&format!(" at line 1 column {column}")),
                "{text}: {said}"
            );
            assert_eq!(said.matches(" at line ").count(), 1, "{text}: {said}");
        }
    }
}
