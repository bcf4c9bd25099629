//! Idempotency tokens (`ClientToken`) for creates.

use super::super::Cx;

/// A stable idempotency token for a create (`ClientToken`): the same stack, resource and
/// identifying inputs give the same token, so a create retried after a lost answer returns
/// the first object instead of making a second. `parts` should include an input that
/// changes when the object is recreated (e.g. the subnet and EIP of a NAT gateway), because
/// AWS remembers tokens after the object is deleted.
pub fn client_token(cx: &Cx, name: &str, parts: &[&str]) -> String {
    token_for(&cx.stack, name, parts)
}

/// [`client_token`] without the context.
pub fn token_for(stack: &str, name: &str, parts: &[&str]) -> String {
    // FNV-1a: stable across processes and Rust versions, unlike `DefaultHasher`. A zero byte
    // ends each part, so `("ab", "c")` and `("a", "bc")` differ.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [stack, name].iter().chain(parts) {
        for b in part.bytes().chain([0u8]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    // ClientToken allows 64 ASCII characters: a readable prefix, then the hash.
    let mut prefix = format!("iac-{stack}-{name}");
    prefix.truncate(46);
    format!("{prefix}-{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_tokens_are_stable_distinct_and_short() {
        let a = token_for("shop", "nat_a", &["subnet-1", "eipalloc-1"]);
        assert_eq!(a, token_for("shop", "nat_a", &["subnet-1", "eipalloc-1"]));
        assert!(a.starts_with("iac-shop-nat_a-"), "{a}");
        assert_ne!(a, token_for("shop", "nat_a", &["subnet-1", "eipalloc-2"]));
        assert_ne!(a, token_for("shop", "nat_b", &["subnet-1", "eipalloc-1"]));
        assert_ne!(
            token_for("s", "n", &["ab", "c"]),
            token_for("s", "n", &["a", "bc"])
        );
        let long = token_for(&"x".repeat(32), &"y".repeat(60), &[]);
        assert!(long.len() <= 64 && long.is_ascii(), "{long}");
    }
}
