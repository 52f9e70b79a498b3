"""assessment's handlers: one function per command (``periods``), the live standing and its
explanation (``standing``), and the dashboard's tables (``dashboard``), each inside the caller's
transaction, with what they need (``AssessmentDeps``) passed in by parameter."""
