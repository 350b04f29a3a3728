//! The ITIL default priority matrix: which impact and urgency give a priority, and the priority the
//! platform derives from them (docs/reference/servicenow-platform.md §10.9a).

/// The (impact, urgency) pair that gives a priority in the ITIL default matrix.
pub fn impact_urgency(priority: u8) -> (u8, u8) {
    match priority {
        0 | 1 => (1, 1),
        2 => (1, 2),
        3 => (2, 2),
        4 => (2, 3),
        _ => (3, 3),
    }
}

/// The ITIL default Priority Lookup Rules: 1/1→1 … 3/3→5 (docs/reference/servicenow-platform.md §10.9a).
pub fn itil_priority(impact: u8, urgency: u8) -> u8 {
    (impact.clamp(1, 3) + urgency.clamp(1, 3)).saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itil_matrix_and_its_inverse_agree() {
        assert_eq!(itil_priority(1, 1), 1);
        assert_eq!(itil_priority(2, 1), 2);
        assert_eq!(itil_priority(3, 1), 3);
        assert_eq!(itil_priority(2, 3), 4);
        assert_eq!(itil_priority(3, 3), 5);
        for p in 1..=5 {
            let (i, u) = impact_urgency(p);
            assert_eq!(itil_priority(i, u), p);
        }
    }
}
