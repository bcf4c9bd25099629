//! Edits of the state alone, for `iac state rm` and `iac state mv`: no AWS call, nothing
//! changed in AWS. Each is checked whole before anything is written, and made durable the
//! way an apply's edits are ([`StateBackend::commit`], then [`StateBackend::save`]). The
//! caller holds the state lock.

use crate::state::{Edit, Forgotten, State, StateBackend, StateError};

/// Why a state edit was refused (nothing was written).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateEditError {
    #[error("the state has no resource {}", names_list(.0))]
    Unknown(Vec<String>),
    #[error("the state already has a resource `{0}`")]
    Taken(String),
    #[error("`{0}` is not a resource name: names match `[a-z][a-z0-9_]*`")]
    InvalidName(String),
}

fn names_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `iac state rm NAME...`: the edits that forget each resource (its object is left in AWS
/// and recorded as forgotten, so no plan adopts it again or deletes it as an orphan), and
/// what each one was. Every name must be in the state; a name given twice counts once.
pub fn forget(
    state: &State,
    names: &[String],
) -> Result<(Vec<Edit>, Vec<Forgotten>), StateEditError> {
    let unknown: Vec<String> = names
        .iter()
        .filter(|n| !state.resources.contains_key(*n))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(StateEditError::Unknown(unknown));
    }
    let mut edits = Vec::new();
    let mut forgotten: Vec<Forgotten> = Vec::new();
    for n in names {
        if forgotten.iter().any(|f| &f.name == n) {
            continue;
        }
        let r = &state.resources[n];
        edits.push(Edit::Forget { name: n.clone() });
        forgotten.push(Forgotten {
            name: n.clone(),
            rtype: r.rtype.clone(),
            physical_id: r.physical_id.clone(),
        });
    }
    Ok((edits, forgotten))
}

/// `iac state mv OLD NEW`: the edit that renames a resource of the state (as a `moved:`
/// entry does when applied). `OLD` must be in the state, `NEW` must not.
pub fn rename(state: &State, old: &str, new: &str) -> Result<Edit, StateEditError> {
    if !iac_stack::is_resource_name(new) {
        return Err(StateEditError::InvalidName(new.to_string()));
    }
    if !state.resources.contains_key(old) {
        return Err(StateEditError::Unknown(vec![old.to_string()]));
    }
    if state.resources.contains_key(new) {
        return Err(StateEditError::Taken(new.to_string()));
    }
    Ok(Edit::Move {
        from: old.to_string(),
        to: new.to_string(),
    })
}

/// Apply `edits` to `state` and make them durable: one commit (the local journal's fsynced
/// line, or a whole save for S3), then the state saved whole.
pub async fn commit(
    backend: &dyn StateBackend,
    state: &mut State,
    edits: Vec<Edit>,
) -> Result<(), StateError> {
    if edits.is_empty() {
        return Ok(());
    }
    state.apply(&edits);
    state.serial += 1;
    backend.commit(state, &edits).await?;
    backend.save(state).await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::state::{Deposed, LocalBackend, ResourceState};

    fn res(rtype: &str, id: &str, deps: &[&str]) -> ResourceState {
        ResourceState {
            rtype: rtype.into(),
            physical_id: id.into(),
            inputs: json!({}),
            attrs: json!({}),
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
            existing: false,
            incomplete: false,
            former_names: Vec::new(),
        }
    }

    fn state() -> State {
        let mut s = State::new("demo");
        s.resources
            .insert("vpc".into(), res("aws.vpc", "vpc-1", &[]));
        s.resources
            .insert("web_tg".into(), res("aws.target_group", "tg-1", &["vpc"]));
        s.resources
            .insert("https".into(), res("aws.listener", "l-1", &["web_tg"]));
        s.deposed.push(Deposed {
            name: "web_tg".into(),
            rtype: "aws.target_group".into(),
            physical_id: "tg-0".into(),
            inputs: json!({}),
            dependencies: vec!["vpc".into()],
        });
        s
    }

    #[test]
    fn forget_checks_every_name_first() {
        let s = state();
        let err = forget(&s, &["web_tg".into(), "nope".into(), "gone".into()]).unwrap_err();
        assert_eq!(
            err,
            StateEditError::Unknown(vec!["nope".into(), "gone".into()])
        );
        assert_eq!(err.to_string(), "the state has no resource `nope`, `gone`");
        let (edits, what) = forget(&s, &["web_tg".into(), "web_tg".into()]).unwrap();
        assert_eq!(edits.len(), 1);
        assert_eq!(what[0].physical_id, "tg-1");
    }

    #[test]
    fn a_move_renames_the_resource_its_dependents_and_its_deposed_objects() {
        let mut s = state();
        s.apply(&[rename(&s, "web_tg", "api_tg").unwrap()]);
        assert!(!s.resources.contains_key("web_tg"));
        assert_eq!(s.resources["api_tg"].physical_id, "tg-1");
        assert_eq!(s.resources["api_tg"].former_names, ["web_tg"]);
        assert_eq!(s.resources["https"].dependencies, ["api_tg"]);
        assert_eq!(s.deposed[0].name, "api_tg");
        // And back: the former names stay, without repeats.
        s.apply(&[rename(&s, "api_tg", "web_tg").unwrap()]);
        assert_eq!(s.resources["web_tg"].former_names, ["api_tg"]);
    }

    #[test]
    fn rename_refuses_a_taken_or_unknown_name_and_an_invalid_one() {
        let s = state();
        assert_eq!(
            rename(&s, "web_tg", "vpc"),
            Err(StateEditError::Taken("vpc".into()))
        );
        assert_eq!(
            rename(&s, "nope", "other"),
            Err(StateEditError::Unknown(vec!["nope".into()]))
        );
        assert_eq!(
            rename(&s, "web_tg", "Web-TG"),
            Err(StateEditError::InvalidName("Web-TG".into()))
        );
    }

    #[tokio::test]
    async fn edits_are_durable_through_the_journal_and_the_save() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path(), "demo");
        let mut s = state();
        b.save(&s).await.unwrap();
        let (edits, _) = forget(&s, &["https".into()]).unwrap();
        commit(&b, &mut s, edits).await.unwrap();
        let m = rename(&s, "web_tg", "api_tg").unwrap();
        commit(&b, &mut s, vec![m]).await.unwrap();
        let loaded = b.load().await.unwrap().unwrap();
        assert_eq!(loaded, s);
        assert_eq!(loaded.serial, 2);
        assert_eq!(loaded.forgotten.len(), 1);
        assert_eq!(loaded.forgotten[0].physical_id, "l-1");
        assert!(loaded.resources.contains_key("api_tg"));
    }

    #[test]
    fn journalled_moves_and_forgets_replay() {
        // The edits a crash leaves in the journal give the same state once replayed.
        let mut s = state();
        let edits = vec![
            Edit::Move {
                from: "web_tg".into(),
                to: "api_tg".into(),
            },
            Edit::Forget { name: "vpc".into() },
        ];
        let text = serde_json::to_string(&edits).unwrap();
        assert!(text.contains(r#""edit":"move""#), "{text}");
        let back: Vec<Edit> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, edits);
        s.apply(&back);
        assert_eq!(s.forgotten[0].name, "vpc");
        assert!(s.resources.contains_key("api_tg"));
    }
}
