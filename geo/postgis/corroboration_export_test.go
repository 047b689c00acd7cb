package postgis

// CandidatesQuery is the corroboration statement, for EXPLAIN in tests.
const CandidatesQuery = candidatesQuery
