"""The SpiffWorkflow adapter: parse, validate, sandbox, run and serialize. No Flask, no SQL; the only
package that imports SpiffWorkflow."""
