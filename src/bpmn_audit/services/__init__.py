"""Use cases, one module per concern (after Camunda 7's engine services). Each public function owns
its transaction: it commits once on success and rolls back on any error."""
