//! Unit tests of the liblxc v2 policy text parser: what it reads, and what it refuses (with
//! the line number).

use super::text::{ArgCompare, CompareOp};
use super::*;

#[test]
fn parse_policy_conditions_and_comments_are_read() {
    let text = "2\ndenylist errno 1 # comment\n[ALL]\n# a comment\n\n\
                seccomp errno 22 [1,2146435072,SCMP_CMP_MASKED_EQ,2146435072]\n\
                mknod errno 1 [1,0x2000,&=,0170000] [0,5,!=]\n[x32]\nread trap\n";
    let p = parse_policy(text).unwrap();
    assert!(!p.allowlist);
    assert_eq!(p.default_action, Action::Errno(1));
    assert_eq!(p.rules.len(), 3);
    assert_eq!(p.rules[0].section, "all");
    assert_eq!(
        p.rules[0].args,
        vec![ArgCompare {
            index: 1,
            op: CompareOp::MaskedEq,
            value: 2146435072,
            mask: 2146435072
        }]
    );
    assert_eq!(
        p.rules[1].args,
        vec![
            ArgCompare {
                index: 1,
                op: CompareOp::MaskedEq,
                value: 0x2000,
                mask: 0o170000
            },
            ArgCompare {
                index: 0,
                op: CompareOp::Ne,
                value: 5,
                mask: 0
            },
        ]
    );
    assert_eq!(
        (p.rules[2].section.as_str(), p.rules[2].action),
        ("x32", Action::Trap)
    );
}

#[test]
fn parse_policy_malformed_text_is_refused_with_line() {
    let cases: &[(&str, &str)] = &[
        ("", "line 1: invalid version \"\", expected 2"),
        ("3\ndenylist\n", "line 1: invalid version \"3\", expected 2"),
        ("1\nallowlist\n0\n", "line 1: version 1 policies"),
        ("2\n", "line 2: missing the denylist or allowlist line"),
        ("2\ngraylist\n", "line 2: bad policy style \"graylist\""),
        (
            "2\ndenylist frobnicate\n",
            "line 2: unrecognized seccomp action \"frobnicate\"",
        ),
        (
            "2\ndenylist\n[vax]\n",
            "line 3: unsupported architecture section \"[vax]\"",
        ),
        (
            "2\ndenylist\n[X86_64]\n[x86_64]\n[X86_64]\n[Arm64]\n",
            "line 6: unsupported",
        ),
        ("2\ndenylist\nuname errno\n", "line 3: errno needs a number"),
        (
            "2\ndenylist\nuname errno x\n",
            "line 3: invalid errno \"x\"",
        ),
        (
            "2\ndenylist\nuname errno 5000\n",
            "line 3: invalid errno \"5000\"",
        ),
        (
            "2\ndenylist\nuname deny\n",
            "line 3: unrecognized seccomp action \"deny\"",
        ),
        ("2\ndenylist\nuname errno 1 2\n", "line 3: unexpected \"2\""),
        (
            "2\ndenylist\nuname [0,1,==]\n",
            "line 3: conditions need an action",
        ),
        (
            "2\ndenylist\numount2 kill [1,1]\n",
            "line 3: condition [1,1] needs",
        ),
        (
            "2\ndenylist\numount2 kill [7,1,==]\n",
            "line 3: invalid argument index \"7\"",
        ),
        (
            "2\ndenylist\numount2 kill [1,x,==]\n",
            "line 3: invalid value \"x\"",
        ),
        (
            "2\ndenylist\numount2 kill [1,1,=~]\n",
            "line 3: invalid comparison \"=~\"",
        ),
        (
            "2\ndenylist\numount2 kill [1,1,==] [1,2,==]\n",
            "line 3: argument 1 is compared twice",
        ),
        (
            "2\ndenylist\numount2 kill [1,1,==] junk\n",
            "line 3: expected a [index,value,op]",
        ),
        (
            "2\ndenylist\nmkdir;rm\n",
            "line 3: invalid syscall name \"mkdir;rm\"",
        ),
    ];
    for (text, expected) in cases {
        let err = parse_policy(text).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("Invalid seccomp policy on {expected}")),
            "{text:?}: got {err:?}, want {expected:?}"
        );
    }
}

#[test]
fn from_text_notify_rule_is_refused() {
    let err = SeccompPolicy::from_text("2\ndenylist\nmknod notify [1,8192,&=,61440]\n");
    assert!(matches!(err, Err(SeccompError::Notify(3))));
}
