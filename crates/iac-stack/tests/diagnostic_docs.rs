//! Every diagnostic code the stack crate and the binary emit is documented: the loader's in
//! docs/diagnostics.md, the rules' in docs/rules.md.

use std::path::Path;

fn codes_in(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            codes_in(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for piece in text.split("\"iac::").skip(1) {
                let code: String = piece
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_' || *c == ':')
                    .collect();
                if piece[code.len()..].starts_with('"')
                    && code.matches("::").count() == 1
                    && !code.ends_with(':')
                {
                    out.push(format!("iac::{code}"));
                }
            }
        }
    }
}

#[test]
fn every_code_is_documented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut codes = Vec::new();
    codes_in(&root.join("crates/iac-stack/src"), &mut codes);
    codes_in(&root.join("crates/iac/src"), &mut codes);
    codes.sort();
    codes.dedup();
    assert!(codes.len() > 40, "found only {} codes", codes.len());
    let docs = std::fs::read_to_string(root.join("docs/diagnostics.md")).unwrap()
        + &std::fs::read_to_string(root.join("docs/rules.md")).unwrap();
    let missing: Vec<&String> = codes
        .iter()
        .filter(|c| !docs.contains(&format!("`{c}`")))
        .collect();
    assert!(missing.is_empty(), "codes without docs: {missing:?}");
}
