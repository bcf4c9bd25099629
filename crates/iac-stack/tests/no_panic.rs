//! The loader must never panic, whatever the text: mangled copies of real stacks (truncated,
//! characters flipped or inserted) and pathologically nested YAML all end in `Ok` or `Err`.

use std::path::{Path, PathBuf};

use iac_stack::{load_str, LoadOptions};
use proptest::prelude::*;

/// Valid fixtures and example stacks: realistic text to mangle.
fn corpus() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in ["tests/fixtures/valid", "stacks"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        files.extend(
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "yaml")),
        );
    }
    files.sort();
    let texts: Vec<String> = files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(!texts.is_empty(), "no valid fixtures found");
    texts
}

/// Characters that matter to YAML or to interpolation, plus some multi-byte ones.
const SPECIAL: &[char] = &[
    '{', '}', '[', ']', ':', ',', '-', '?', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`',
    '$', '\\', ' ', '\t', '\n', '\r', '.', '~', 'é', '💥', '\u{feff}', '\0',
];

#[derive(Debug, Clone)]
enum Edit {
    Truncate(usize),
    Replace(usize, char),
    Insert(usize, String),
    Delete(usize, usize),
}

fn any_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(SPECIAL),
        1 => any::<char>(),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), any_char()).prop_map(|(i, c)| Edit::Replace(i, c)),
        (any::<usize>(), prop::collection::vec(any_char(), 1..8))
            .prop_map(|(i, cs)| Edit::Insert(i, cs.into_iter().collect())),
        (any::<usize>(), 1usize..20).prop_map(|(i, n)| Edit::Delete(i, n)),
    ]
}

/// Apply an edit on characters, so the text stays valid UTF-8.
fn apply(text: &str, e: &Edit) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let len = chars.len().max(1);
    match e {
        Edit::Truncate(i) => chars.truncate(i % len),
        Edit::Replace(i, c) => {
            if !chars.is_empty() {
                chars[i % len] = *c;
            }
        }
        Edit::Insert(i, s) => {
            let at = i % (chars.len() + 1);
            chars.splice(at..at, s.chars());
        }
        Edit::Delete(i, n) => {
            let at = i % len;
            let end = (at + n).min(chars.len());
            if at < end {
                chars.drain(at..end);
            }
        }
    }
    chars.into_iter().collect()
}

fn load(text: &str) {
    // Either outcome is fine; reaching the end without a panic is the test.
    let _ = load_str("mangled.yaml", text, &LoadOptions::default());
    let with_region = LoadOptions {
        region: Some("eu-west-1".into()),
        ..LoadOptions::default()
    };
    let _ = load_str("mangled.yaml", text, &with_region);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn mangled_stacks_never_panic(pick in any::<usize>(), edits in prop::collection::vec(edit(), 1..6)) {
        let texts = corpus();
        let mut text = texts[pick % texts.len()].clone();
        for e in &edits {
            text = apply(&text, e);
        }
        load(&text);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        load(&text);
    }
}

#[test]
fn deep_nesting_never_panics() {
    for n in [1, 127, 128, 129, 1_000, 50_000] {
        load(&"[".repeat(n));
        load(&format!("{}1{}", "[".repeat(n), "]".repeat(n)));
        load(&"{a: ".repeat(n));
        load(&format!("{}1{}", "{a: ".repeat(n), "}".repeat(n)));
        load(&format!("{}x\n", "- ".repeat(n)));
        let block: String = (0..n.min(2_000))
            .map(|i| format!("{}a:\n", " ".repeat(i)))
            .collect();
        load(&block);
        load(&format!(
            "resources:\n  x:\n    type: aws.vpc\n    tags: {}",
            "[".repeat(n)
        ));
    }
}

#[test]
fn every_prefix_of_a_stack_never_panics() {
    for text in corpus() {
        let chars: Vec<char> = text.chars().collect();
        for end in (0..=chars.len()).step_by(7) {
            load(&chars[..end].iter().collect::<String>());
        }
    }
}
