//! Refresh: what is live of everything the state knows, read batched per type, the types
//! in parallel.

use std::collections::HashMap;
use std::sync::Arc;

use crate::provider::{Live, Provider, ProviderError};
use crate::state::State;

use super::PlanError;

/// Read live state for everything the state knows, batched per type, types in parallel.
pub(crate) async fn refresh(
    state: &State,
    provider: &Arc<dyn Provider>,
) -> Result<HashMap<String, Option<Live>>, PlanError> {
    let by_type = state.read_requests();
    let mut set = tokio::task::JoinSet::new();
    for (rtype, reqs) in by_type {
        let p = provider.clone();
        set.spawn(async move {
            let res = p.read(&rtype, &reqs).await;
            let names: Vec<String> = reqs.into_iter().map(|r| r.name).collect();
            (rtype, names, res)
        });
    }
    let mut out = HashMap::new();
    while let Some(joined) = set.join_next().await {
        let (rtype, names, res) = joined.map_err(|e| PlanError::Read {
            rtype: "?".into(),
            source: ProviderError::new(crate::ErrorKind::Fatal, e.to_string()),
        })?;
        let results = res.map_err(|source| PlanError::Read {
            rtype: rtype.clone(),
            source,
        })?;
        for r in results {
            out.insert(r.name, r.live);
        }
        // A provider that forgets a resource must not make the plan recreate it.
        if let Some(missing) = names.iter().find(|n| !out.contains_key(*n)) {
            return Err(PlanError::Read {
                rtype,
                source: ProviderError::new(
                    crate::ErrorKind::Fatal,
                    format!("the provider returned nothing for `{missing}`"),
                ),
            });
        }
    }
    Ok(out)
}
