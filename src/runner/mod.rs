//! Plan, gather facts, evaluate.
