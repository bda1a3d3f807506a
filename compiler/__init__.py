"""The compiler's stages: parse -> analyze -> IR -> derivative plan -> code generation."""
