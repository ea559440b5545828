"""Running graphs: Session, InteractiveSession, the execution plan and fetch mapping."""
