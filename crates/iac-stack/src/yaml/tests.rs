use super::*;

thread_local! {
    /// Calls of [`Node::key_text`] on this thread: the work the duplicate-key check does.
    pub(super) static KEY_TEXTS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

#[test]
fn the_duplicate_key_check_is_linear_in_the_size_of_a_map() {
    // Every key's text is taken once, not compared with every key before it: a
    // 10,000-key `resources:` map costs 10,000, not 50 million.
    for n in [1_000, 10_000] {
        let text: String = (0..n).map(|i| format!("k{i}: {i}\n")).collect();
        KEY_TEXTS.with(|c| c.set(0));
        let node = parse_ok(&text);
        assert_eq!(node.as_map().map(<[_]>::len), Some(n));
        let work = KEY_TEXTS.with(std::cell::Cell::get);
        assert!(work <= 2 * n, "{work} key texts for {n} keys");
    }
}

fn parse_ok(text: &str) -> Node {
    let src = SourceFile::new("t.yaml", text);
    let mut d = Diagnostics::default();
    let n = parse(&src, &mut d).expect("parses");
    assert!(!d.has_errors(), "{:?}", d);
    n
}

fn parse_err(text: &str) -> Diagnostics {
    let src = SourceFile::new("t.yaml", text);
    let mut d = Diagnostics::default();
    let _ = parse(&src, &mut d);
    assert!(d.has_errors(), "expected an error for {text:?}");
    d
}

#[test]
fn core_schema_resolution() {
    assert_eq!(resolve_plain("~"), NodeKind::Null);
    assert_eq!(resolve_plain("True"), NodeKind::Bool(true));
    assert_eq!(resolve_plain("yes"), NodeKind::Str("yes".into()));
    assert_eq!(resolve_plain("-42"), NodeKind::Int(-42));
    assert_eq!(resolve_plain("0x1F"), NodeKind::Int(31));
    assert_eq!(resolve_plain("0o17"), NodeKind::Int(15));
    assert_eq!(resolve_plain("1.5e3"), NodeKind::Float(1500.0));
    assert_eq!(resolve_plain("1.2.3"), NodeKind::Str("1.2.3".into()));
    assert_eq!(
        resolve_plain("10.0.0.0/16"),
        NodeKind::Str("10.0.0.0/16".into())
    );
    assert_eq!(resolve_plain("e5"), NodeKind::Str("e5".into()));
}

#[test]
fn spans_are_bytes_even_after_multibyte_text() {
    let text = "a: \"héllo\"\nb: 3\n";
    let n = parse_ok(text);
    let m = n.as_map().unwrap();
    let (k, v) = &m[1];
    assert_eq!(&text[k.span.start..k.span.end], "b");
    assert_eq!(&text[v.span.start..v.span.end], "3");
    assert_eq!(v.kind, NodeKind::Int(3));
    let s = &m[0].1;
    assert_eq!(&text[s.span.start..s.span.end], "\"héllo\"");
    assert_eq!(s.text_start, Some(4));
}

#[test]
fn quoted_scalars_are_strings() {
    let n = parse_ok("a: '3'\nb: \"true\"\nc: 3\n");
    let m = n.as_map().unwrap();
    assert_eq!(m[0].1.kind, NodeKind::Str("3".into()));
    assert_eq!(m[1].1.kind, NodeKind::Str("true".into()));
    assert_eq!(m[2].1.kind, NodeKind::Int(3));
}

#[test]
fn collection_spans() {
    let text = "a:\n  - x\n  - [1, 2]\nb: {c: d}\n\n\n";
    let n = parse_ok(text);
    let m = n.as_map().unwrap();
    let seq = &m[0].1;
    assert_eq!(&text[seq.span.start..seq.span.end], "- x\n  - [1, 2]");
    let map = &m[1].1;
    assert_eq!(&text[map.span.start..map.span.end], "{c: d}");
}

#[test]
fn duplicate_keys_name_both_places() {
    let d = parse_err("a: 1\nb: 2\na: 3\n");
    let diag = &d.0[0];
    assert_eq!(diag.code, "iac::yaml::duplicate_key");
    assert_eq!(diag.labels[0].span, Span::new(10, 11));
    assert_eq!(diag.labels[1].span, Span::new(0, 1));
}

#[test]
fn syntax_error_points_at_marker() {
    let d = parse_err("a: [1, 2\nb: 3\n");
    assert_eq!(d.0[0].code, "iac::yaml::syntax");
}

#[test]
fn second_document_is_an_error() {
    let d = parse_err("a: 1\n---\nb: 2\n");
    assert_eq!(d.0[0].code, "iac::yaml::multiple_documents");
}

/// A node written as flow YAML, without spans.
fn shape(n: &Node) -> String {
    match &n.kind {
        NodeKind::Seq(items) => {
            let items: Vec<String> = items.iter().map(shape).collect();
            format!("[{}]", items.join(", "))
        }
        NodeKind::Map(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", shape(k), shape(v)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
        _ => n.key_text().unwrap(),
    }
}

fn keys(n: &Node) -> Vec<String> {
    n.as_map()
        .unwrap()
        .iter()
        .map(|(k, _)| k.key_text().unwrap())
        .collect()
}

fn get<'n>(n: &'n Node, key: &str) -> &'n Node {
    &n.as_map()
        .unwrap()
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .unwrap_or_else(|| panic!("no key `{key}`"))
        .1
}

#[test]
fn aliases_copy_the_anchored_value_and_remember_the_alias() {
    let text = "a: &x {k: v, n: [1, 2]}\nb: *x\nc: &s hello\nd: *s\n";
    let n = parse_ok(text);
    let (a, b) = (get(&n, "a"), get(&n, "b"));
    assert_eq!(shape(a), shape(b));
    assert_eq!(shape(b), "{k: v, n: [1, 2]}");
    // The copy points where the value is written, through the alias.
    let bk = get(b, "k");
    assert_eq!(&text[bk.span.start..bk.span.end], "v");
    let alias = bk.span.alias().unwrap();
    assert_eq!(&text[alias.start..alias.end], "*x");
    assert_eq!(get(a, "k").span.via, None);
    let d = get(&n, "d");
    assert_eq!(d.kind, NodeKind::Str("hello".into()));
    assert_eq!(&text[d.span.start..d.span.end], "&s hello");
    assert_eq!(d.text_start, Some(text.find("hello").unwrap()));
    // A diagnostic about the copy labels both places.
    let diag = Diag::error("iac::test", "x").label(bk.span, "here");
    assert_eq!(diag.labels.len(), 2);
    assert_eq!(diag.labels[1].span, alias);
    // The same alias is labelled once.
    let diag = Diag::error("iac::test", "x")
        .label(bk.span, "here")
        .label(get(b, "n").span, "and here");
    assert_eq!(diag.labels.len(), 3);
}

#[test]
fn nested_aliases_record_the_outermost_use() {
    let text = "t: &t {x: 1}\nbase: &b {tags: *t}\nuse: *b\n";
    let n = parse_ok(text);
    let x = get(get(get(&n, "use"), "tags"), "x");
    let alias = x.span.alias().unwrap();
    assert_eq!(alias.start, text.rfind("*b").unwrap());
    assert_eq!(&text[x.span.start..x.span.end], "1");
}

#[test]
fn a_redefined_anchor_means_the_latest_definition() {
    let n = parse_ok("a: &x 1\nb: *x\nc: &x 2\nd: *x\n");
    assert_eq!(get(&n, "b").kind, NodeKind::Int(1));
    assert_eq!(get(&n, "d").kind, NodeKind::Int(2));
}

#[test]
fn merge_keys_follow_yaml_1_1() {
    let text = "\
base: &base {a: 1, b: 2, c: 3}
more: &more {c: 30, d: 40}
one:
  b: 20
  <<: *base
  e: 5
list:
  <<: [*more, *base]
  a: 10
inline:
  <<: {x: 1}
  y: 2
quoted:
  \"<<\": *base
";
    let n = parse_ok(text);
    let one = get(&n, "one");
    // Explicit keys win, wherever they are written; merged ones take the `<<` place.
    assert_eq!(keys(one), ["b", "a", "c", "e"]);
    assert_eq!(get(one, "b").kind, NodeKind::Int(20));
    assert_eq!(get(one, "a").kind, NodeKind::Int(1));
    assert!(get(one, "a").span.via.is_some());
    // The first map listed wins over later ones.
    let list = get(&n, "list");
    assert_eq!(keys(list), ["c", "d", "b", "a"]);
    assert_eq!(get(list, "c").kind, NodeKind::Int(30));
    assert_eq!(get(list, "a").kind, NodeKind::Int(10));
    assert_eq!(keys(get(&n, "inline")), ["x", "y"]);
    // A quoted `<<` is an ordinary key.
    assert_eq!(keys(get(&n, "quoted")), ["<<"]);
}

#[test]
fn a_merge_of_something_else_than_maps_is_an_error() {
    for text in [
        "a: &s x\nb:\n  <<: *s\n",
        "b:\n  <<: [{a: 1}, 3]\n",
        "b:\n  <<:\n",
    ] {
        let d = parse_err(text);
        assert_eq!(d.0[0].code, "iac::yaml::merge", "{text}");
    }
}

#[test]
fn an_alias_inside_its_own_anchor_is_an_error() {
    let text = "a: &x\n  b: *x\n";
    let d = parse_err(text);
    assert_eq!(d.0[0].code, "iac::yaml::alias");
    let labels: Vec<&str> = d.0[0]
        .labels
        .iter()
        .map(|l| &text[l.span.start..l.span.end])
        .collect();
    assert_eq!(labels, ["*x", "&x"]);
}

#[test]
fn alias_bombs_stop_at_the_copy_limit() {
    let mut text = String::from("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        text.push_str(&format!(
            "l{i}: &l{i} [*l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}]\n"
        ));
    }
    let started = std::time::Instant::now();
    let d = parse_err(&text);
    assert_eq!(d.0.len(), 1);
    assert_eq!(d.0[0].code, "iac::yaml::alias_limit");
    // Stopped before copying, not after.
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // Within the limit, the same shape parses.
    let small = "l0: &l0 [a, b]\nl1: &l1 [*l0, *l0]\nl2: [*l1, *l1]\n";
    // root + 3 keys, l0 (3), l1 (1 + 2 x 3), l2 (1 + 2 x 7)
    assert_eq!(count(&parse_ok(small)), 4 + 3 + 7 + 15);
}

#[test]
fn an_alias_cannot_nest_deeper_than_the_cap() {
    let deep = format!("{}x{}", "[".repeat(100), "]".repeat(100));
    let text = format!("a: &d {deep}\nb: {}*d{}\n", "[".repeat(40), "]".repeat(40));
    assert_eq!(parse_err(&text).0[0].code, "iac::yaml::too_deep");
    let text = format!("a: &d {deep}\nb: {}*d{}\n", "[".repeat(20), "]".repeat(20));
    parse_ok(&text);
}

#[test]
fn custom_tags_are_rejected() {
    let d = parse_err("a: !Ref vpc\nb: !!binary eA==\n");
    assert_eq!(d.0[0].message, "YAML tag `!Ref` is not supported");
    assert_eq!(d.0[1].message, "YAML tag `!!binary` is not supported");
    let n = parse_ok("a: !!str 12\n");
    assert_eq!(n.as_map().unwrap()[0].1.kind, NodeKind::Str("12".into()));
}

#[test]
fn deep_nesting_is_capped() {
    // Block nesting reaches our cap; flow nesting may hit the scanner's own limit first.
    let text = format!("{}x\n", "- ".repeat(1_000));
    assert_eq!(parse_err(&text).0[0].code, "iac::yaml::too_deep");
    let text = format!(
        "{}1{}",
        "[".repeat(MAX_DEPTH + 1),
        "]".repeat(MAX_DEPTH + 1)
    );
    assert_eq!(parse_err(&text).0[0].code, "iac::yaml::too_deep");
    for text in ["[".repeat(10_000), "{a: ".repeat(10_000)] {
        parse_err(&text);
    }
}

#[test]
fn empty_text_is_null() {
    assert_eq!(parse_ok("").kind, NodeKind::Null);
    assert_eq!(parse_ok("# only a comment\n").kind, NodeKind::Null);
}
