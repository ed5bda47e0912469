//! Argument conditions of a seccomp rule: `[index,value,op]` or `[index,value,op,mask]`, with
//! liblxc's operator names (`SCMP_CMP_EQ` ...) or symbols (`==` ...) and C-style numbers.
//! Parsing only; errors are bare reasons that the caller prefixes with the line.

/// How an argument is compared (`SCMP_CMP_*` names or their symbols).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Ne,
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    /// `(arg & mask) == value`.
    MaskedEq,
}

/// One `[index,value,op(,mask)]` argument condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgCompare {
    pub index: u8,
    pub op: CompareOp,
    pub value: u64,
    pub mask: u64,
}

/// Parses the `[..]` groups after a rule's action (at most 6, each argument at most once).
pub(super) fn parse_conditions(mut text: &str) -> Result<Vec<ArgCompare>, String> {
    let mut args: Vec<ArgCompare> = Vec::new();
    loop {
        text = text.trim_start();
        if text.is_empty() {
            return Ok(args);
        }
        let Some((group, rest)) = text.strip_prefix('[').and_then(|t| t.split_once(']')) else {
            return Err(format!("expected a [index,value,op] condition at {text:?}"));
        };
        if args.len() == 6 {
            return Err("more than 6 conditions".to_string());
        }
        let arg = parse_condition(group)?;
        if args.iter().any(|a| a.index == arg.index) {
            return Err(format!("argument {} is compared twice", arg.index));
        }
        args.push(arg);
        text = rest;
    }
}

fn parse_condition(group: &str) -> Result<ArgCompare, String> {
    let parts: Vec<&str> = group.split(',').map(str::trim).collect();
    if parts.len() != 3 && parts.len() != 4 {
        return Err(format!(
            "condition [{group}] needs index,value,op or index,value,op,mask"
        ));
    }
    let index = parse_u64(parts[0])
        .filter(|i| *i < 6)
        .ok_or_else(|| format!("invalid argument index {:?} (0 to 5)", parts[0]));
    let value = parse_u64(parts[1]).ok_or_else(|| format!("invalid value {:?}", parts[1]));
    let mask = match parts.get(3) {
        Some(m) => parse_u64(m).ok_or_else(|| format!("invalid mask {m:?}")),
        None => Ok(0),
    };
    let op = parse_op(parts[2]).ok_or_else(|| format!("invalid comparison {:?}", parts[2]));
    match (index, value, op, mask) {
        (Ok(index), Ok(value), Ok(op), Ok(mask)) => Ok(ArgCompare {
            index: index as u8,
            op,
            value,
            mask,
        }),
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => Err(e),
    }
}

fn parse_op(op: &str) -> Option<CompareOp> {
    Some(match op {
        "SCMP_CMP_NE" | "!=" => CompareOp::Ne,
        "SCMP_CMP_LT" | "<" => CompareOp::Lt,
        "SCMP_CMP_LE" | "<=" => CompareOp::Le,
        "SCMP_CMP_EQ" | "==" => CompareOp::Eq,
        "SCMP_CMP_GE" | ">=" => CompareOp::Ge,
        "SCMP_CMP_GT" | ">" => CompareOp::Gt,
        "SCMP_CMP_MASKED_EQ" | "&=" => CompareOp::MaskedEq,
        _ => return None,
    })
}

/// An unsigned number the way `strtoull(s, NULL, 0)` reads it: `0x` hex, leading-0 octal.
fn parse_u64(s: &str) -> Option<u64> {
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}
