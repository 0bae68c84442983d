/// Why the SQL guardrail refused a statement.
public struct SQLGuardrailViolation: Error, Sendable, CustomStringConvertible {
    /// A stable id, one of ``SQLGuardrail/Rule``: `sql.parse`, `sql.single_statement`, `sql.read_only`,
    /// `sql.side_effect_function`, `sql.transaction_control`, `sql.admin`.
    public var rule: String
    /// For a human: what was found, and what to do instead.
    public var reason: String
    /// What the guardrail saw, e.g. "kind=write verb=DELETE tables=orders(write)".
    public var detail: String

    public init(rule: String, reason: String, detail: String) {
        self.rule = rule
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(rule): \(reason)" }
}

/// Decides, before a statement reaches the database, whether a SQL tool may send it:
/// `sql.query` checks in ``Mode/readOnly``, `sql.execute` in ``Mode/write``.
///
/// In every mode it refuses what cannot be read (`sql.parse`), more than one statement
/// (`sql.single_statement`), transaction control (`sql.transaction_control`: the tool owns the
/// transaction), administration (`sql.admin`: PRAGMA, ATTACH, COPY, SET, VACUUM, DO, CALL,
/// PREPARE/EXECUTE, CREATE EXTENSION, functions in untrusted languages, anything unrecognised …)
/// and calls of functions whose effects escape the database or the transaction
/// (`sql.side_effect_function`). In read-only mode it also refuses anything but a pure read
/// (`sql.read_only`). In write mode reads, writes, DDL and DCL pass: the caller then asks for
/// the grants the ``SQLClassification`` names, and for a human's approval when it
/// ``SQLClassification/isDestructive``.
///
/// SQLite's introspection pragmas (`PRAGMA table_info(t)`, `index_list`, `foreign_key_list`,
/// `database_list`, …) are reads and pass in both modes; every other PRAGMA is refused.
///
/// ```swift
/// switch SQLGuardrail(dialect: .sqlite).check("SELECT 1; DROP TABLE orders", mode: .readOnly) {
/// case .success(let classification): run(classification)
/// case .failure(let violation): print(violation)   // sql.single_statement: Found 2 statements …
/// }
/// ```
///
/// The guardrail is one layer: the connection below it is read-only for `sql.query` and runs
/// under the caller's database role, which also stops what user-defined functions might do.
public struct SQLGuardrail: Sendable {
    public enum Mode: String, Sendable {
        /// `sql.query`: pure reads only.
        case readOnly
        /// `sql.execute`: reads, writes, DDL and DCL.
        case write
    }

    /// The stable rule ids of ``SQLGuardrailViolation/rule``.
    public enum Rule {
        public static let parse = "sql.parse"
        public static let singleStatement = "sql.single_statement"
        public static let readOnly = "sql.read_only"
        public static let sideEffectFunction = "sql.side_effect_function"
        public static let transactionControl = "sql.transaction_control"
        public static let admin = "sql.admin"
    }

    public let dialect: SQLDialect

    public init(dialect: SQLDialect) {
        self.dialect = dialect
    }

    /// The statement's classification when the tool may send it in `mode`, else why not.
    /// Rules are tried in this order: parse, single statement, transaction control, admin,
    /// side-effect functions, read-only.
    public func check(_ sql: String, mode: Mode) -> Result<SQLClassification, SQLGuardrailViolation> {
        let classification: SQLClassification
        do {
            classification = try SQLClassifier(dialect: dialect).classify(sql)
        } catch {
            return .failure(error)
        }
        let detail = Self.detail(classification)
        switch classification.kind {
        case .transaction:
            return .failure(SQLGuardrailViolation(
                rule: Rule.transactionControl,
                reason: "\(classification.verb) controls the transaction, which the tool owns: each call runs in its own "
                    + "transaction, committed when it succeeds and rolled back when it fails. Send the statement without "
                    + "BEGIN, COMMIT, ROLLBACK or SAVEPOINT.",
                detail: detail))
        case .admin:
            return .failure(SQLGuardrailViolation(rule: Rule.admin, reason: adminReason(classification), detail: detail))
        default:
            break
        }
        if let function = classification.sideEffectFunctions.first {
            let effect = SQLSideEffectFunctions.effect(ofFound: function, dialect: dialect)?.rawValue ?? "has side effects"
            let others = classification.sideEffectFunctions.dropFirst()
            let also = others.isEmpty ? "" : " (also: \(others.map { "\($0)()" }.joined(separator: ", ")))"
            return .failure(SQLGuardrailViolation(
                rule: Rule.sideEffectFunction,
                reason: "The statement calls \(function)()\(also), which \(effect). Functions whose effects escape the "
                    + "database or the transaction are refused in every mode; read data with plain queries, or ask a "
                    + "database administrator to do this.",
                detail: detail))
        }
        if mode == .readOnly, classification.kind != .read {
            let what = classification.writeEffects.isEmpty
                ? "is a \(classification.verb) (\(classification.kind.rawValue))"
                : "is not a pure read: \(classification.writeEffects.joined(separator: "; "))"
            return .failure(SQLGuardrailViolation(
                rule: Rule.readOnly,
                reason: "This call may only read, but the statement \(what). Send reads only here (SELECT, WITH … SELECT, "
                    + "VALUES, EXPLAIN without ANALYZE); send changes through the write tool (sql.execute), which checks "
                    + "write grants and asks for approval when a change is destructive.",
                detail: detail))
        }
        return .success(classification)
    }

    static func detail(_ classification: SQLClassification) -> String {
        var parts = ["kind=\(classification.kind.rawValue)", "verb=\(classification.verb)"]
        if !classification.tables.isEmpty {
            parts.append("tables=" + classification.tables.map { table in
                (table.schema.map { "\($0)." } ?? "") + table.name + (table.isWrite ? "(write)" : "")
            }.joined(separator: ","))
        }
        if classification.isDestructive { parts.append("destructive=" + classification.destructiveReasons.joined(separator: "; ")) }
        if !classification.sideEffectFunctions.isEmpty {
            parts.append("functions=" + classification.sideEffectFunctions.joined(separator: ","))
        }
        if !classification.writeEffects.isEmpty { parts.append("effects=" + classification.writeEffects.joined(separator: "; ")) }
        return parts.joined(separator: " ")
    }

    private func adminReason(_ classification: SQLClassification) -> String {
        let verb = classification.verb
        let first = verb.split(separator: " ").first.map(String.init) ?? verb
        let why: String
        switch first {
        case "PRAGMA":
            why = "PRAGMA changes or reveals the connection's settings. Only the introspection pragmas (table_info, "
                + "index_list, foreign_key_list, …) are allowed; to list a table's columns you can also "
                + "SELECT * FROM pragma_table_info('orders')."
        case "ATTACH", "DETACH":
            why = "\(verb) opens or closes another database file (ATTACH creates it when missing). Query the "
                + "connections the tool is configured with instead."
        case "VACUUM", "ANALYZE", "ANALYSE", "REINDEX", "CLUSTER", "CHECKPOINT":
            why = "\(verb) is database maintenance (VACUUM INTO also writes a copy of the database to a file). Ask a "
                + "database administrator."
        case "SET", "RESET":
            why = verb.contains("ROLE") || verb.contains("AUTHORIZATION")
                ? "\(verb) would change the database role the statement runs as, escaping the caller's rights."
                : "\(verb) changes session settings, which the tool fixes for each connection (read-only transactions, "
                + "time limits, search path). Write what you need into the statement itself."
        case "COPY":
            why = "COPY reads or writes files, or runs programs, on the database server. Use SELECT to read rows and "
                + "INSERT … VALUES to add them."
        case "LOAD":
            why = "LOAD brings native code into the database server."
        case "LISTEN", "NOTIFY", "UNLISTEN":
            why = "\(verb) sends or subscribes to messages between sessions, which outlive the call."
        case "DO", "CALL":
            why = "\(verb) runs procedural code the guard cannot inspect. Send the SQL statements themselves, one per call."
        case "PREPARE", "EXECUTE", "DEALLOCATE":
            why = "session-level prepared statements hide the statement that finally runs. Send the statement itself, "
                + "with its values written in."
        case "DECLARE", "FETCH", "MOVE", "CLOSE":
            why = "cursors outlive the statement. Page through results with LIMIT and OFFSET instead."
        case "DISCARD":
            why = "DISCARD resets session state the tool set up."
        case "LOCK":
            why = "explicit table locks outlive the statement; each statement takes the locks it needs."
        case "SECURITY", "IMPORT", "CREATE", "ALTER", "DROP":
            why = classification.writeEffects.isEmpty
                ? "\(verb) acts outside this database (other databases, files, servers, native code, replication or "
                    + "server settings). Ask a database administrator."
                : "ask a database administrator."
        default:
            why = "the guard does not recognise '\(verb)' and refuses what it cannot classify. Use SELECT, INSERT, "
                + "UPDATE, DELETE, MERGE or a DDL statement."
        }
        let effects = classification.writeEffects.isEmpty ? "" : " (\(classification.writeEffects.joined(separator: "; ")))"
        return "\(verb) is administration, refused in every mode\(effects): \(why)"
    }
}
