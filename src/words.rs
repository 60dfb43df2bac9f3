//! Words a count takes, the same in every message: "1 pod", "3 pods".

/// `n` and the word for it: "1 pod", "2 pods".
pub fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
