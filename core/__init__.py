"""What both halves share: the spec, errors, JSON I/O, the AWS client factory, IAM facts
and the vocabulary. Imports nothing else of ours."""
