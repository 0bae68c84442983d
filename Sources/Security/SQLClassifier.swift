/// The SQL dialects the guardrail reads.
public enum SQLDialect: String, Sendable, CaseIterable {
    case sqlite
    case postgresql
}

/// What a statement does, most harmful part first: a SELECT whose WITH clause deletes is a `write`.
public enum SQLStatementKind: String, Sendable {
    /// Reads only: SELECT, VALUES, TABLE, WITH … SELECT, EXPLAIN (without ANALYZE), SHOW,
    /// SQLite's introspection pragmas.
    case read
    /// Changes rows: INSERT, UPDATE, DELETE, MERGE, REPLACE, `SELECT … FOR UPDATE`, REFRESH.
    case write
    /// Changes the schema: CREATE, ALTER, DROP, TRUNCATE, COMMENT, `SELECT … INTO`.
    case ddl
    /// Changes rights: GRANT, REVOKE, CREATE/ALTER/DROP ROLE or USER, ALTER DEFAULT PRIVILEGES.
    case dcl
    /// Changes the session, the server or things outside the database: PRAGMA, ATTACH, COPY,
    /// SET, VACUUM, DO, CALL, PREPARE/EXECUTE, CREATE EXTENSION … and anything not recognised.
    case admin
    /// BEGIN, COMMIT, ROLLBACK, SAVEPOINT …: the tools own transactions.
    case transaction

    /// Which kind a statement gets when its parts differ.
    var rank: Int {
        switch self {
        case .read: 0
        case .write: 1
        case .ddl: 2
        case .dcl: 3
        case .transaction: 4
        case .admin: 5
        }
    }
}

/// A table a statement names. Unquoted PostgreSQL names are folded to lower case; SQLite names
/// are kept as written (SQLite compares them case-insensitively).
public struct SQLTableReference: Sendable, Hashable {
    /// The schema when the statement qualifies the name (`public.orders`, `main.orders`), else nil.
    public var schema: String?
    public var name: String
    /// True when the statement changes the table (or its definition), false when it only reads it.
    public var isWrite: Bool

    public init(schema: String? = nil, name: String, isWrite: Bool) {
        self.schema = schema
        self.name = name
        self.isWrite = isWrite
    }
}

/// What the guardrail found in one statement.
public struct SQLClassification: Sendable {
    /// What the statement does; its most harmful part decides (a SELECT whose WITH deletes is a write).
    public var kind: SQLStatementKind
    /// The main statement's verb: "SELECT", "INSERT", "DELETE", "CREATE TABLE", "DROP TABLE",
    /// "EXPLAIN", "EXPLAIN ANALYZE", "SELECT INTO", "SET ROLE" … (`WITH x AS (…) INSERT …` is "INSERT").
    public var verb: String
    /// Tables read and written (best effort): FROM, JOIN, USING, INTO, UPDATE, DELETE FROM, TABLE,
    /// COPY and DDL targets; names of WITH queries are left out. One entry per table, `isWrite`
    /// when any use writes it.
    public var tables: [SQLTableReference]
    /// Why a human should approve it, e.g. "DROP TABLE", "DELETE without WHERE", "TRUNCATE",
    /// "ALTER TABLE", "GRANT"; empty when it is not destructive.
    public var destructiveReasons: [String]
    public var isDestructive: Bool { !destructiveReasons.isEmpty }
    /// Functions with side effects the statement calls, lower-cased (e.g. "pg_read_file").
    public var sideEffectFunctions: [String]
    /// What makes a statement whose verb reads more than a read, e.g. "DELETE in WITH",
    /// "FOR UPDATE locks the rows it reads", "EXPLAIN ANALYZE runs the DELETE it explains".
    public var writeEffects: [String]

    public init(kind: SQLStatementKind, verb: String, tables: [SQLTableReference] = [], destructiveReasons: [String] = [],
                sideEffectFunctions: [String] = [], writeEffects: [String] = []) {
        self.kind = kind
        self.verb = verb
        self.tables = tables
        self.destructiveReasons = destructiveReasons
        self.sideEffectFunctions = sideEffectFunctions
        self.writeEffects = writeEffects
    }
}

/// Classifies one SQL statement without a database: its kind, verb, tables, whether it is
/// destructive and which side-effect functions it calls. It reads tokens the way the engine
/// does (strings, comments, quoted identifiers and dollar quotes cannot hide or fake keywords)
/// and errs towards the more harmful reading when unsure.
///
/// ```swift
/// let classification = try SQLClassifier(dialect: .postgresql)
///     .classify("WITH gone AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM gone")
/// classification.kind                // .write
/// classification.verb                // "SELECT"
/// classification.destructiveReasons  // ["DELETE without WHERE"]
/// ```
///
/// It throws ``SQLGuardrailViolation`` with rule `sql.parse` (empty text, an unterminated string,
/// identifier, comment or dollar quote, unbalanced parentheses) or `sql.single_statement`
/// (more than one statement; a trailing `;` is fine). Deciding what may run is ``SQLGuardrail``'s job.
public struct SQLClassifier: Sendable {
    public let dialect: SQLDialect

    public init(dialect: SQLDialect) {
        self.dialect = dialect
    }

    public func classify(_ sql: String) throws(SQLGuardrailViolation) -> SQLClassification {
        let tokens = try SQLLexer(dialect: dialect).tokens(of: sql)
        let statement = try Self.singleStatement(tokens)
        let analyzer = try SQLStatementAnalyzer(tokens: statement, dialect: dialect)
        let part = try analyzer.analyze(0..<statement.count)
        var functions = analyzer.sideEffectFunctions()
        if part.verb == "CREATE FUNCTION" || part.verb == "CREATE PROCEDURE" {
            // A function body is text to the engine but SQL when the function runs: look inside.
            for token in statement where token.kind == .string {
                guard let body = try? SQLLexer(dialect: dialect).tokens(of: token.text),
                      let bodyAnalyzer = try? SQLStatementAnalyzer(tokens: body[...], dialect: dialect, requireBalance: false) else { continue }
                functions += bodyAnalyzer.sideEffectFunctions()
            }
        }
        return SQLClassification(kind: part.kind, verb: part.verb, tables: analyzer.distinctTables(part.tables),
                                 destructiveReasons: part.destructive.uniqued(), sideEffectFunctions: functions.uniqued(),
                                 writeEffects: part.effects.uniqued())
    }

    /// The tokens of the only statement, or why there is not exactly one.
    static func singleStatement(_ tokens: [SQLToken]) throws(SQLGuardrailViolation) -> ArraySlice<SQLToken> {
        var statements: [ArraySlice<SQLToken>] = []
        var start = 0
        for (index, token) in tokens.enumerated() where token.isSymbol(";") {
            if index > start { statements.append(tokens[start..<index]) }
            start = index + 1
        }
        if tokens.count > start { statements.append(tokens[start..<tokens.count]) }
        guard let first = statements.first else {
            throw SQLGuardrailViolation(rule: SQLGuardrail.Rule.parse,
                                        reason: "The SQL is empty (only white space, comments or ';'). Send one statement.",
                                        detail: "statements=0")
        }
        guard statements.count == 1 else {
            let second = statements[1].first!
            throw SQLGuardrailViolation(
                rule: SQLGuardrail.Rule.singleStatement,
                reason: "Found \(statements.count) statements; the second starts at offset \(second.offset) with '\(second.text)'. "
                    + "Send exactly one statement per call (a trailing ';' is fine) and run the others as separate calls. "
                    + "Bodies that contain ';' (SQLite triggers, PostgreSQL BEGIN ATOMIC) are not supported; use a dollar-quoted body.",
                detail: "statements=\(statements.count) second_offset=\(second.offset)")
        }
        return first
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each once.
    fileprivate func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}

// MARK: - Statement analysis

/// What one statement, or a statement nested in it (a WITH query, a subquery), does.
struct SQLStatementPart {
    var kind: SQLStatementKind
    var verb: String
    var tables: [SQLTableReference] = []
    var destructive: [String] = []
    var effects: [String] = []

    mutating func raise(to other: SQLStatementKind) {
        if other.rank > kind.rank { kind = other }
    }

    mutating func absorb(_ other: SQLStatementPart, effect: String?) {
        raise(to: other.kind)
        tables += other.tables
        destructive += other.destructive
        effects += other.effects
        if let effect { effects.append(effect) }
    }
}

/// Walks the tokens of one statement (without its `;`), recursing into WITH queries, subqueries,
/// EXPLAIN targets and `CREATE … AS` queries.
struct SQLStatementAnalyzer {
    private let tokens: [SQLToken]
    let dialect: SQLDialect
    /// For each `(`, the index of its `)`; -1 elsewhere.
    private let closing: [Int]
    /// How deeply statements (and conditions) may nest: far beyond real queries, far below the stack's limit.
    static let maxDepth = 100

    init(tokens: ArraySlice<SQLToken>, dialect: SQLDialect, requireBalance: Bool = true) throws(SQLGuardrailViolation) {
        self.tokens = Array(tokens)
        self.dialect = dialect
        var closing = [Int](repeating: -1, count: self.tokens.count)
        var open: [Int] = []
        for (index, token) in self.tokens.enumerated() where token.kind == .symbol {
            if token.text == "(" {
                open.append(index)
            } else if token.text == ")" {
                guard let opener = open.popLast() else {
                    if requireBalance { throw .parse("the ')' has no matching '('", offset: token.offset) }
                    continue
                }
                closing[opener] = index
            }
        }
        if let unclosed = open.last {
            if requireBalance { throw .parse("the '(' is never closed with ')'", offset: self.tokens[unclosed].offset) }
            for index in open { closing[index] = self.tokens.count }
        }
        self.closing = closing
    }

    // MARK: Token helpers

    private func word(_ index: Int) -> String? {
        index >= 0 && index < tokens.count && tokens[index].kind == .word ? tokens[index].key : nil
    }

    private func isWord(_ index: Int, _ word: String) -> Bool {
        index >= 0 && index < tokens.count && tokens[index].isWord(word)
    }

    private func isSymbol(_ index: Int, _ symbol: String) -> Bool {
        index >= 0 && index < tokens.count && tokens[index].isSymbol(symbol)
    }

    private func isName(_ index: Int) -> Bool {
        index >= 0 && index < tokens.count && tokens[index].isName
    }

    /// A name as the engine resolves it: PostgreSQL folds unquoted names to lower case, SQLite keeps them.
    private func nameText(_ index: Int) -> String {
        let token = tokens[index]
        return dialect == .postgresql && token.kind == .word ? token.key : token.text
    }

    /// How names compare: exactly in PostgreSQL (after folding), ignoring ASCII case in SQLite.
    private func comparable(_ name: String) -> String {
        dialect == .sqlite ? SQLLexer.lowercasedASCII(name) : name
    }

    /// `name`, `schema.name` or `catalog.schema.name` at `index`.
    private func qualifiedName(at index: Int) -> (schema: String?, name: String, next: Int)? {
        guard isName(index), !(word(index).map(Self.notNames.contains) ?? false) else { return nil }
        var parts = [nameText(index)]
        var next = index + 1
        while isSymbol(next, "."), isName(next + 1) {
            parts.append(nameText(next + 1))
            next += 2
        }
        return (parts.count > 1 ? parts[parts.count - 2] : nil, parts[parts.count - 1], next)
    }

    /// `range` from `index` on (empty when `index` is past its end).
    private func rest(from index: Int, of range: Range<Int>) -> Range<Int> {
        min(index, range.upperBound)..<range.upperBound
    }

    /// The first `word` at parenthesis depth 0 in `range`.
    private func firstTopLevel(_ words: Set<String>, in range: Range<Int>) -> Int? {
        var index = range.lowerBound
        while index < range.upperBound {
            if isSymbol(index, "(") {
                index = closing[index] + 1
                continue
            }
            if let word = word(index), words.contains(word) { return index }
            index += 1
        }
        return nil
    }

    /// Splits `range` at `separator` (a word or symbol) at depth 0.
    private func split(_ range: Range<Int>, at separator: String) -> [Range<Int>] {
        var parts: [Range<Int>] = []
        var start = range.lowerBound
        var index = range.lowerBound
        while index < range.upperBound {
            if isSymbol(index, "(") {
                index = min(closing[index] + 1, range.upperBound)
                continue
            }
            if isWord(index, separator) || isSymbol(index, separator) {
                parts.append(start..<index)
                start = index + 1
            }
            index += 1
        }
        parts.append(start..<range.upperBound)
        return parts
    }

    /// Removes parentheses around the whole of `range`.
    private func stripParentheses(_ range: Range<Int>) -> Range<Int> {
        var range = range
        while range.count >= 2, isSymbol(range.lowerBound, "("), closing[range.lowerBound] == range.upperBound - 1 {
            range = (range.lowerBound + 1)..<(range.upperBound - 1)
        }
        return range
    }

    /// Whether the tokens at `index` begin a statement nested in parentheses.
    private func startsStatement(at index: Int) -> Bool {
        guard let word = word(index) else { return false }
        switch word {
        case "select", "values", "with": return true
        case "table": return isName(index + 1)
        case "insert": return isWord(index + 1, "into") || isWord(index + 1, "or")
        case "delete": return isWord(index + 1, "from")
        case "update": return isName(index + 1)
        case "merge", "replace": return isWord(index + 1, "into")
        default: return false
        }
    }

    // MARK: Statements

    /// Classifies the statement in `range`.
    func analyze(_ range: Range<Int>, depth: Int = 0) throws(SQLGuardrailViolation) -> SQLStatementPart {
        let start = range.lowerBound
        guard start < range.upperBound else {
            throw .parse("a statement is missing (e.g. empty parentheses)", offset: tokens[min(start, tokens.count - 1)].offset)
        }
        guard depth < Self.maxDepth else {
            throw .parse("the statement nests more than \(Self.maxDepth) statements or queries inside each other", offset: tokens[start].offset)
        }
        if isSymbol(start, "(") {
            var part = SQLStatementPart(kind: .read, verb: "")
            try walk(range, .query, depth: depth, into: &part)
            if part.verb.isEmpty { part.verb = "SELECT" }
            return part
        }
        guard let verb = word(start) else {
            throw .parse("a statement must start with a keyword such as SELECT, not '\(tokens[start].text)'", offset: tokens[start].offset)
        }
        switch verb {
        case "select", "values", "table":
            var part = SQLStatementPart(kind: .read, verb: verb.uppercased())
            try walk(range, .query, depth: depth, into: &part)
            return part
        case "with": return try analyzeWith(range, depth: depth)
        case "insert", "replace": return try analyzeInsert(range, depth: depth)
        case "update": return try analyzeUpdate(range, depth: depth)
        case "delete": return try analyzeDelete(range, depth: depth)
        case "merge": return try analyzeMerge(range, depth: depth)
        case "explain": return try analyzeExplain(range, depth: depth)
        case "create": return try analyzeCreate(range, depth: depth)
        case "drop": return analyzeDrop(range)
        case "alter": return analyzeAlter(range)
        case "truncate":
            var part = SQLStatementPart(kind: .ddl, verb: "TRUNCATE", destructive: ["TRUNCATE"])
            var index = start + 1
            if isWord(index, "table") { index += 1 }
            recordNameList(from: index, in: range, isWrite: true, into: &part)
            return part
        case "grant", "revoke":
            var part = SQLStatementPart(kind: .dcl, verb: verb.uppercased(), destructive: [verb.uppercased()])
            recordGrantTables(range, into: &part)
            return part
        case "reassign":
            return SQLStatementPart(kind: .dcl, verb: "REASSIGN OWNED", destructive: ["REASSIGN OWNED"])
        case "comment":
            var part = SQLStatementPart(kind: .ddl, verb: "COMMENT")
            if isWord(start + 1, "on"), let object = word(start + 2), ["table", "view"].contains(object),
               let name = qualifiedName(at: start + 3) {
                part.tables.append(SQLTableReference(schema: name.schema, name: name.name, isWrite: true))
            }
            return part
        case "refresh":
            var part = SQLStatementPart(kind: .write, verb: "REFRESH MATERIALIZED VIEW")
            var index = start + 1
            while let word = word(index), ["materialized", "view", "concurrently"].contains(word) { index += 1 }
            if let name = qualifiedName(at: index) {
                part.tables.append(SQLTableReference(schema: name.schema, name: name.name, isWrite: true))
            }
            return part
        case "show":
            return SQLStatementPart(kind: .read, verb: "SHOW")
        case "begin", "start", "commit", "end", "rollback", "abort", "savepoint", "release":
            return SQLStatementPart(kind: .transaction, verb: transactionVerb(verb, at: start))
        case "prepare" where isWord(start + 1, "transaction"):
            return SQLStatementPart(kind: .transaction, verb: "PREPARE TRANSACTION")
        case "set", "reset":
            return SQLStatementPart(kind: .admin, verb: setVerb(verb, at: start))
        case "pragma":
            return analyzePragma(range)
        case "copy", "lock":
            return try analyzeCopyOrLock(verb, range, depth: depth)
        case "security":
            return SQLStatementPart(kind: .admin, verb: "SECURITY LABEL")
        case "import":
            return SQLStatementPart(kind: .admin, verb: "IMPORT FOREIGN SCHEMA")
        default:
            // Known administrative statements and anything unrecognised alike: refused.
            return SQLStatementPart(kind: .admin, verb: tokens[start].text.uppercased())
        }
    }

    /// The query statements: walks every token, recording tables, nested statements,
    /// `SELECT … INTO` and locking clauses.
    private enum WalkContext { case query, modification }

    private func walk(_ range: Range<Int>, _ context: WalkContext, depth: Int, into part: inout SQLStatementPart) throws(SQLGuardrailViolation) {
        struct Frame {
            /// Inside a function's arguments, FROM/FOR/INTO mean something else (`extract(year FROM d)`).
            var function: Bool
            /// Between FROM and the next clause: a `,` starts another table.
            var fromList: Bool
        }
        var frames = [Frame(function: false, fromList: false)]
        var index = range.lowerBound
        while index < range.upperBound {
            let token = tokens[index]
            let top = frames.count - 1
            if token.kind == .symbol {
                switch token.text {
                case "(":
                    let close = closing[index]
                    if close > index + 1, startsStatement(at: index + 1) {
                        let nested = try analyze((index + 1)..<close, depth: depth + 1)
                        if part.verb.isEmpty { part.verb = nested.verb }
                        part.absorb(nested, effect: nested.kind == .read ? nil : "\(nested.verb) in a subquery")
                        index = close + 1
                        continue
                    }
                    let previous = index - 1
                    let function = isName(previous) && !(word(previous).map(Self.notFunctions.contains) ?? false)
                    let fromItem = frames[top].fromList && !frames[top].function
                        && (isWord(previous, "from") || isWord(previous, "join") || isWord(previous, "lateral")
                            || isSymbol(previous, ",") || isSymbol(previous, "("))
                    frames.append(Frame(function: function, fromList: fromItem))
                    if fromItem { recordTable(at: index + 1, into: &part) }
                case ")":
                    if frames.count > 1 { frames.removeLast() }
                case ",":
                    if frames[top].fromList, !frames[top].function { recordTable(at: index + 1, into: &part) }
                default:
                    break
                }
            } else if token.kind == .word, !frames[top].function {
                switch token.key {
                case "from" where !isWord(index - 1, "distinct"), "join", "using":
                    frames[top].fromList = true
                    recordTable(at: index + 1, into: &part)
                case "into" where context == .query:
                    index = selectInto(at: index, into: &part)
                    continue
                case "for" where context == .query:
                    lockingClause(at: index, into: &part)
                case "table" where context == .query:
                    if let name = qualifiedName(at: index + 1) {
                        part.tables.append(SQLTableReference(schema: name.schema, name: name.name, isWrite: false))
                    }
                default:
                    if Self.fromListEnders.contains(token.key) { frames[top].fromList = false }
                }
            }
            index += 1
        }
    }

    /// Records the table that starts at `index`, if a table (not a subquery or function) does.
    private func recordTable(at index: Int, into part: inout SQLStatementPart) {
        var index = index
        while isWord(index, "only") || isWord(index, "lateral") { index += 1 }
        if isWord(index, "rows"), isWord(index + 1, "from") { return }
        guard let name = qualifiedName(at: index), !isSymbol(name.next, "(") else { return }
        part.tables.append(SQLTableReference(schema: name.schema, name: name.name, isWrite: false))
    }

    /// `[ONLY] name [*] [, …]` from `index`, e.g. TRUNCATE's and DROP TABLE's targets.
    private func recordNameList(from index: Int, in range: Range<Int>, isWrite: Bool, into part: inout SQLStatementPart) {
        var index = index
        while index < range.upperBound {
            while isWord(index, "only") { index += 1 }
            guard let name = qualifiedName(at: index) else { return }
            part.tables.append(SQLTableReference(schema: name.schema, name: name.name, isWrite: isWrite))
            index = name.next
            if isSymbol(index, "*") { index += 1 }
            guard isSymbol(index, ",") else { return }
            index += 1
        }
    }

    /// `SELECT … INTO [TEMP] [TABLE] name` creates a table in PostgreSQL. Returns where to go on.
    private func selectInto(at index: Int, into part: inout SQLStatementPart) -> Int {
        var next = index + 1
        while let word = word(next), ["temp", "temporary", "unlogged", "table", "global", "local"].contains(word) { next += 1 }
        part.raise(to: .ddl)
        if part.verb == "SELECT" { part.verb = "SELECT INTO" }
        guard let name = qualifiedName(at: next) else {
            part.effects.append("SELECT … INTO creates a table")
            return next
        }
        part.tables.append(SQLTableReference(schema: name.schema, name: name.name, isWrite: true))
        part.effects.append("SELECT … INTO creates table \(name.name)")
        return name.next
    }

    private func lockingClause(at index: Int, into part: inout SQLStatementPart) {
        let clause: String
        if isWord(index + 1, "update") {
            clause = "FOR UPDATE"
        } else if isWord(index + 1, "share") {
            clause = "FOR SHARE"
        } else if isWord(index + 1, "no"), isWord(index + 2, "key"), isWord(index + 3, "update") {
            clause = "FOR NO KEY UPDATE"
        } else if isWord(index + 1, "key"), isWord(index + 2, "share") {
            clause = "FOR KEY SHARE"
        } else {
            return
        }
        part.raise(to: .write)
        part.effects.append("\(clause) locks the rows it reads")
    }

    private func analyzeWith(_ range: Range<Int>, depth: Int) throws(SQLGuardrailViolation) -> SQLStatementPart {
        var index = range.lowerBound + 1
        let recursive = isWord(index, "recursive")
        if recursive { index += 1 }
        var queries: [SQLStatementPart] = []
        // A WITH query's name hides a table of that name in the queries after it and in the main
        // statement; in its own body only when recursive (SQLite: always).
        var names: Set<String> = []
        func withoutQueries(_ tables: [SQLTableReference], named names: Set<String>) -> [SQLTableReference] {
            tables.filter { $0.schema != nil || !names.contains(comparable($0.name)) }
        }
        while true {
            guard index < range.upperBound, isName(index) else {
                throw .parse("WITH must be followed by a name and AS (query)", offset: tokens[min(index, tokens.count - 1)].offset)
            }
            let name = comparable(nameText(index))
            index += 1
            if isSymbol(index, "(") { index = closing[index] + 1 }
            guard isWord(index, "as") else {
                throw .parse("a WITH query needs AS (query) after its name", offset: tokens[min(index, tokens.count - 1)].offset)
            }
            index += 1
            if isWord(index, "not") { index += 1 }
            if isWord(index, "materialized") { index += 1 }
            guard isSymbol(index, "("), closing[index] < range.upperBound else {
                throw .parse("a WITH query's body must be in parentheses", offset: tokens[min(index, tokens.count - 1)].offset)
            }
            let close = closing[index]
            var query = try analyze((index + 1)..<close, depth: depth + 1)
            query.tables = withoutQueries(query.tables, named: recursive || dialect == .sqlite ? names.union([name]) : names)
            queries.append(query)
            names.insert(name)
            index = close + 1
            if isWord(index, "search") || isWord(index, "cycle") {
                // SEARCH … SET col / CYCLE … SET col USING path: ends at `,` or the main statement.
                while index < range.upperBound, !isSymbol(index, ","), !startsStatement(at: index), !isSymbol(index, "(") { index += 1 }
            }
            guard isSymbol(index, ",") else { break }
            index += 1
        }
        guard index < range.upperBound else {
            throw .parse("WITH queries must be followed by the statement that uses them", offset: tokens[range.upperBound - 1].offset)
        }
        var main = try analyze(index..<range.upperBound, depth: depth + 1)
        let mainTables = withoutQueries(main.tables, named: names)
        main.tables = []
        for query in queries {
            main.absorb(query, effect: query.kind == .read ? nil : "\(query.verb) in WITH")
        }
        main.tables += mainTables
        return main
    }

    private func analyzeInsert(_ range: Range<Int>, depth: Int) throws(SQLGuardrailViolation) -> SQLStatementPart {
        let verb = tokens[range.lowerBound].key
        var part = SQLStatementPart(kind: .write, verb: verb.uppercased())
        var index = range.lowerBound + 1
        if verb == "replace" { part.destructive.append("REPLACE INTO (deletes the rows it conflicts with)") }
        if isWord(index, "or") {
            if isWord(index + 1, "replace") { part.destructive.append("INSERT OR REPLACE (deletes the rows it conflicts with)") }
            index += 2
        }
        if isWord(index, "into") { index += 1 }
        if let name = qualifiedName(at: index) {
            part.tables.append(SQLTableReference(schema: name.schema, name: name.name, isWrite: true))
            index = name.next
        }
        try walk(rest(from: index, of: range), .modification, depth: depth, into: &part)
        return part
    }

    private func analyzeUpdate(_ range: Range<Int>, depth: Int) throws(SQLGuardrailViolation) -> SQLStatementPart {
        var part = SQLStatementPart(kind: .write, verb: "UPDATE")
        var index = range.lowerBound + 1
        if isWord(index, "or") {
            if isWord(index + 1, "replace") { part.destructive.append("UPDATE OR REPLACE (deletes the rows it conflicts with)") }
            index += 2
        }
        if isWord(index, "only") { index += 1 }
        if let name = qualifiedName(at: index) {
            part.tables.append(SQLTableReference(schema: name.schema, name: name.name, isWrite: true))
            index = name.next
        }
        try walk(rest(from: index, of: range), .modification, depth: depth, into: &part)
        checkWhere(range, verb: "UPDATE", into: &part)
        return part
    }

    private func analyzeDelete(_ range: Range<Int>, depth: Int) throws(SQLGuardrailViolation) -> SQLStatementPart {
        var part = SQLStatementPart(kind: .write, verb: "DELETE")
        var index = range.lowerBound + 1
        if isWord(index, "from") { index += 1 }
        if isWord(index, "only") { index += 1 }
        if let name = qualifiedName(at: index) {
            part.tables.append(SQLTableReference(schema: name.schema, name: name.name, isWrite: true))
            index = name.next
        }
        try walk(rest(from: index, of: range), .modification, depth: depth, into: &part)
        checkWhere(range, verb: "DELETE", into: &part)
        return part
    }

    private func analyzeMerge(_ range: Range<Int>, depth: Int) throws(SQLGuardrailViolation) -> SQLStatementPart {
        var part = SQLStatementPart(kind: .write, verb: "MERGE")
        var index = range.lowerBound + 1
        if isWord(index, "into") { index += 1 }
        if isWord(index, "only") { index += 1 }
        if let name = qualifiedName(at: index) {
            part.tables.append(SQLTableReference(schema: name.schema, name: name.name, isWrite: true))
            index = name.next
        }
        try walk(rest(from: index, of: range), .modification, depth: depth, into: &part)
        var then = firstTopLevel(["then"], in: range)
        while let found = then {
            if isWord(found + 1, "delete") {
                part.destructive.append("MERGE … THEN DELETE")
                break
            }
            then = firstTopLevel(["then"], in: rest(from: found + 1, of: range))
        }
        return part
    }

    /// UPDATE and DELETE change every row without a WHERE, or with one that is always true.
    private func checkWhere(_ range: Range<Int>, verb: String, into part: inout SQLStatementPart) {
        guard let whereIndex = firstTopLevel(["where"], in: range) else {
            part.destructive.append("\(verb) without WHERE")
            return
        }
        let end = firstTopLevel(["returning", "order", "limit", "offset"], in: rest(from: whereIndex + 1, of: range)) ?? range.upperBound
        if isWord(whereIndex + 1, "current"), isWord(whereIndex + 2, "of") { return }
        if isAlwaysTrue((whereIndex + 1)..<end) {
            part.destructive.append("\(verb) with a WHERE that is always true")
        }
    }

    private func analyzeExplain(_ range: Range<Int>, depth: Int) throws(SQLGuardrailViolation) -> SQLStatementPart {
        var index = range.lowerBound + 1
        var analyzes = false
        var verb = "EXPLAIN"
        if dialect == .postgresql {
            if isSymbol(index, "("), !startsStatement(at: index + 1) {
                let close = closing[index]
                for option in split((index + 1)..<close, at: ",") where !option.isEmpty {
                    guard let name = word(option.lowerBound), name == "analyze" || name == "analyse" else { continue }
                    // `ANALYZE false|off|0` turns it off; anything else (or nothing) runs the statement.
                    let value = option.count > 1 ? SQLLexer.lowercasedASCII(tokens[option.lowerBound + 1].text) : "true"
                    analyzes = !["false", "off", "0"].contains(value)
                }
                index = close + 1
            } else {
                while let word = word(index), ["analyze", "analyse", "verbose"].contains(word) {
                    if word != "verbose" { analyzes = true }
                    index += 1
                }
            }
        }
        if isWord(index, "query"), isWord(index + 1, "plan") {
            verb = "EXPLAIN QUERY PLAN"
            index += 2
        }
        guard index < range.upperBound else {
            throw .parse("EXPLAIN must be followed by the statement to explain", offset: tokens[range.upperBound - 1].offset)
        }
        var inner = try analyze(index..<range.upperBound, depth: depth + 1)
        // Statements the engine would refuse to explain (or that PostgreSQL runs anyway) stay refused.
        if inner.kind == .admin || inner.kind == .transaction { return inner }
        if analyzes {
            if inner.kind != .read { inner.effects.append("EXPLAIN ANALYZE runs the \(inner.verb) it explains") }
            inner.verb = "EXPLAIN ANALYZE"
            return inner
        }
        // Without ANALYZE nothing runs.
        return SQLStatementPart(kind: .read, verb: verb,
                             tables: inner.tables.map { SQLTableReference(schema: $0.schema, name: $0.name, isWrite: false) })
    }

    // MARK: DDL

    /// CREATE/ALTER/DROP objects that act outside the database: other databases, files, servers,
    /// native code, replication.
    private static let outsideObjects: Set<String> = [
        "database", "tablespace", "extension", "language", "procedural language", "server", "foreign data wrapper",
        "user mapping", "foreign table", "subscription", "publication", "system",
    ]
    private static let rightsObjects: Set<String> = ["role", "user", "group", "owned", "default privileges"]
    private static let tableObjects: Set<String> = ["table", "view", "materialized view", "virtual table"]
    private static let multiWordObjects: [[String]] = [
        ["foreign", "data", "wrapper"], ["text", "search", "configuration"], ["text", "search", "dictionary"],
        ["text", "search", "parser"], ["text", "search", "template"], ["materialized", "view"], ["foreign", "table"],
        ["user", "mapping"], ["operator", "class"], ["operator", "family"], ["event", "trigger"], ["access", "method"],
        ["default", "privileges"], ["large", "object"], ["virtual", "table"], ["procedural", "language"],
    ]

    /// The object type of CREATE/ALTER/DROP at `index`, e.g. "materialized view".
    private func objectType(at index: Int) -> (String, Int) {
        for words in Self.multiWordObjects where words.indices.allSatisfy({ isWord(index + $0, words[$0]) }) {
            return (words.joined(separator: " "), index + words.count)
        }
        if let word = word(index) { return (word, index + 1) }
        return ("", index)
    }

    private func kind(of object: String, otherwise: SQLStatementKind) -> SQLStatementKind {
        if Self.rightsObjects.contains(object) { return .dcl }
        if Self.outsideObjects.contains(object) { return .admin }
        return otherwise
    }

    private func analyzeCreate(_ range: Range<Int>, depth: Int) throws(SQLGuardrailViolation) -> SQLStatementPart {
        var index = range.lowerBound + 1
        var replaces = false
        if isWord(index, "or"), isWord(index + 1, "replace") {
            replaces = true
            index += 2
        }
        while let word = word(index),
              ["temp", "temporary", "unlogged", "global", "local", "unique", "trusted", "recursive", "constraint"].contains(word) {
            index += 1
        }
        let (object, afterObject) = objectType(at: index)
        let verb = object.isEmpty ? "CREATE" : "CREATE \(object.uppercased())"
        var part = SQLStatementPart(kind: kind(of: object, otherwise: .ddl), verb: verb)
        if part.kind == .dcl { part.destructive.append(verb) }
        if replaces { part.destructive.append("CREATE OR REPLACE \(object.uppercased()) (replaces the existing definition)") }
        index = afterObject
        switch object {
        case _ where Self.tableObjects.contains(object):
            if isWord(index, "if"), isWord(index + 1, "not"), isWord(index + 2, "exists") { index += 3 }
            if let name = qualifiedName(at: index) {
                part.tables.append(SQLTableReference(schema: name.schema, name: name.name, isWrite: true))
                index = name.next
            }
            if object == "virtual table", isWord(index, "using"), let module = word(index + 1), Self.fileModules.contains(module) {
                part.raise(to: .admin)
                part.effects.append("the \(module) module reads or writes files outside the database")
            }
            if let asIndex = firstTopLevel(["as"], in: rest(from: index, of: range)), asIndex + 1 < range.upperBound {
                let query = try analyze((asIndex + 1)..<range.upperBound, depth: depth + 1)
                part.absorb(query, effect: query.kind == .read ? nil : "\(query.verb) in \(verb) … AS")
            }
        case "index", "trigger", "policy":
            if let on = firstTopLevel(["on"], in: rest(from: index, of: range)) {
                var target = on + 1
                if isWord(target, "only") { target += 1 }
                if let name = qualifiedName(at: target) {
                    part.tables.append(SQLTableReference(schema: name.schema, name: name.name, isWrite: true))
                }
            }
        case "function", "procedure":
            if let language = firstTopLevel(["language"], in: rest(from: index, of: range)), language + 1 < range.upperBound {
                let name = SQLLexer.lowercasedASCII(tokens[language + 1].text)
                if ["c", "internal", "plsh", "plr"].contains(name) || (name.hasPrefix("pl") && name.hasSuffix("u")) {
                    part.raise(to: .admin)
                    part.effects.append("LANGUAGE \(name) runs code outside the database's sandbox")
                }
            }
        default:
            break
        }
        return part
    }

    private func analyzeDrop(_ range: Range<Int>) -> SQLStatementPart {
        let (object, afterObject) = objectType(at: range.lowerBound + 1)
        let verb = object.isEmpty ? "DROP" : "DROP \(object.uppercased())"
        var part = SQLStatementPart(kind: kind(of: object, otherwise: .ddl), verb: verb, destructive: [verb])
        var index = afterObject
        if Self.tableObjects.contains(object) || object == "foreign table" {
            if isWord(index, "if"), isWord(index + 1, "exists") { index += 2 }
            recordNameList(from: index, in: range, isWrite: true, into: &part)
        } else if ["trigger", "policy", "rule"].contains(object), let on = firstTopLevel(["on"], in: rest(from: index, of: range)),
                  let name = qualifiedName(at: on + 1) {
            part.tables.append(SQLTableReference(schema: name.schema, name: name.name, isWrite: true))
        }
        return part
    }

    private func analyzeAlter(_ range: Range<Int>) -> SQLStatementPart {
        let (object, afterObject) = objectType(at: range.lowerBound + 1)
        let verb = object.isEmpty ? "ALTER" : "ALTER \(object.uppercased())"
        var part = SQLStatementPart(kind: kind(of: object, otherwise: .ddl), verb: verb, destructive: [verb])
        var index = afterObject
        if Self.tableObjects.contains(object) || object == "foreign table" {
            if isWord(index, "if"), isWord(index + 1, "exists") { index += 2 }
            if isWord(index, "only") { index += 1 }
            if !(isWord(index, "all") && isWord(index + 1, "in")), let name = qualifiedName(at: index) {
                part.tables.append(SQLTableReference(schema: name.schema, name: name.name, isWrite: true))
            }
        }
        return part
    }

    /// GRANT/REVOKE … ON [TABLE] a, b: the tables whose rights change.
    private func recordGrantTables(_ range: Range<Int>, into part: inout SQLStatementPart) {
        guard let on = firstTopLevel(["on"], in: range) else { return }
        var index = on + 1
        if isWord(index, "table") {
            index += 1
        } else if let word = word(index), Self.grantObjects.contains(word) {
            return
        }
        recordNameList(from: index, in: range, isWrite: true, into: &part)
    }

    private static let grantObjects: Set<String> = [
        "sequence", "database", "schema", "function", "procedure", "routine", "language", "large", "tablespace", "type",
        "domain", "foreign", "all", "parameter",
    ]

    // MARK: Administration and transactions

    private func transactionVerb(_ verb: String, at index: Int) -> String {
        if verb == "start" { return "START TRANSACTION" }
        if verb == "commit" || verb == "rollback", isWord(index + 1, "prepared") { return "\(verb.uppercased()) PREPARED" }
        return verb.uppercased()
    }

    private func setVerb(_ verb: String, at index: Int) -> String {
        var next = index + 1
        if isWord(next, "session") || isWord(next, "local") {
            if isWord(next + 1, "authorization") { return "\(verb.uppercased()) SESSION AUTHORIZATION" }
            if isWord(next + 1, "characteristics") { return "SET SESSION CHARACTERISTICS" }
            next += 1
        }
        if let word = word(next), ["role", "transaction", "constraints"].contains(word) {
            return "\(verb.uppercased()) \(word.uppercased())"
        }
        return verb.uppercased()
    }

    /// SQLite's introspection pragmas only report; every other PRAGMA is administration.
    private static let readPragmas: Set<String> = [
        "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo", "foreign_key_list",
        "foreign_key_check", "collation_list", "database_list", "function_list", "module_list", "pragma_list", "compile_options",
    ]
    private static let tablePragmas: Set<String> = ["table_info", "table_xinfo", "index_list", "foreign_key_list", "foreign_key_check"]

    private func analyzePragma(_ range: Range<Int>) -> SQLStatementPart {
        let administration = SQLStatementPart(kind: .admin, verb: "PRAGMA")
        guard dialect == .sqlite, let name = qualifiedName(at: range.lowerBound + 1) else { return administration }
        let pragma = SQLLexer.lowercasedASCII(name.name)
        guard Self.readPragmas.contains(pragma) else { return administration }
        var part = SQLStatementPart(kind: .read, verb: "PRAGMA")
        let index = name.next
        if index == range.upperBound { return part }
        let argument: Int
        if isSymbol(index, "("), closing[index] == range.upperBound - 1, closing[index] == index + 2 {
            argument = index + 1
        } else if isSymbol(index, "="), index + 2 == range.upperBound {
            argument = index + 1
        } else {
            return administration
        }
        guard tokens[argument].isName || tokens[argument].kind == .string else { return administration }
        if Self.tablePragmas.contains(pragma) {
            part.tables.append(SQLTableReference(schema: name.schema, name: tokens[argument].text, isWrite: false))
        }
        return part
    }

    private func analyzeCopyOrLock(_ verb: String, _ range: Range<Int>, depth: Int) throws(SQLGuardrailViolation) -> SQLStatementPart {
        var part = SQLStatementPart(kind: .admin, verb: verb.uppercased())
        var index = range.lowerBound + 1
        if verb == "copy", isSymbol(index, "(") {
            let close = closing[index]
            if close > index + 1 { part.absorb(try analyze((index + 1)..<close, depth: depth + 1), effect: nil) }
            part.kind = .admin
            return part
        }
        if isWord(index, "table") { index += 1 }
        let writes = verb == "lock" || firstTopLevel(["from"], in: rest(from: index, of: range)) != nil
        recordNameList(from: index, in: range, isWrite: writes, into: &part)
        return part
    }

    /// SQLite virtual table modules that read or write files.
    private static let fileModules: Set<String> = ["zipfile", "fsdir", "csv", "fileio", "sqlar"]

    // MARK: Always-true conditions

    private enum Literal: Equatable {
        case number(Double)
        case text(String)
        case boolean(Bool)
        case null
    }

    private func literal(_ range: Range<Int>) -> Literal? {
        let range = stripParentheses(range)
        var sign = 1.0
        var index = range.lowerBound
        if range.count == 2, isSymbol(index, "-") || isSymbol(index, "+") {
            if isSymbol(index, "-") { sign = -1 }
            index += 1
        } else if range.count != 1 {
            return nil
        }
        let token = tokens[index]
        switch token.kind {
        case .number:
            let digits = token.text.filter { $0 != "_" }
            let lower = digits.lowercased()
            if lower.hasPrefix("0x"), let value = Int(lower.dropFirst(2), radix: 16) { return .number(sign * Double(value)) }
            return Double(digits).map { .number(sign * $0) }
        case .string where range.count == 1:
            return .text(token.text)
        case .word where range.count == 1:
            switch token.key {
            case "true": return .boolean(true)
            case "false": return .boolean(false)
            case "null": return .null
            default: return nil
            }
        default:
            return nil
        }
    }

    private func truthValue(_ literal: Literal) -> Bool? {
        switch literal {
        case .boolean(let value): value
        case .number(let value): value != 0
        case .text, .null: nil
        }
    }

    /// Simple tautologies: `true`, `1`, `1=1`, `'a'='a'`, `id = id`, `x LIKE '%'`, `NOT false`,
    /// and any OR with one of them.
    private func isAlwaysTrue(_ range: Range<Int>, depth: Int = 0) -> Bool {
        let range = stripParentheses(range)
        guard !range.isEmpty else { return false }
        // Too deep to follow (`NOT NOT … NOT false`): assume the worst.
        guard depth < Self.maxDepth else { return true }
        let alternatives = split(range, at: "or")
        if alternatives.count > 1 { return alternatives.contains { isAlwaysTrue($0, depth: depth + 1) } }
        let conjuncts = split(range, at: "and")
        if conjuncts.count > 1, !conjuncts.contains(where: \.isEmpty) {
            // `a BETWEEN 1 AND 2` splits too; its halves are not always true, so no harm.
            return conjuncts.allSatisfy { isAlwaysTrue($0, depth: depth + 1) }
        }
        if isWord(range.lowerBound, "not") { return isAlwaysFalse((range.lowerBound + 1)..<range.upperBound, depth: depth + 1) }
        if let value = literal(range) { return truthValue(value) == true }
        return comparison(range) == true
    }

    private func isAlwaysFalse(_ range: Range<Int>, depth: Int) -> Bool {
        let range = stripParentheses(range)
        guard !range.isEmpty else { return false }
        guard depth < Self.maxDepth else { return true }
        if isWord(range.lowerBound, "not") { return isAlwaysTrue((range.lowerBound + 1)..<range.upperBound, depth: depth + 1) }
        if let value = literal(range) { return truthValue(value) == false }
        return comparison(range) == false
    }

    /// The value of `a <op> b` when it does not depend on the row; nil when it does.
    private func comparison(_ range: Range<Int>) -> Bool? {
        let operators: Set<String> = ["=", "==", "<>", "!=", "<", ">", "<=", ">=", "is", "like", "ilike", "glob"]
        var index = range.lowerBound
        var operatorIndex: Int?
        while index < range.upperBound {
            if isSymbol(index, "(") {
                index = closing[index] + 1
                continue
            }
            let token = tokens[index]
            if (token.kind == .symbol || token.kind == .word) && operators.contains(token.key) {
                operatorIndex = index
                break
            }
            index += 1
        }
        guard let operatorIndex, operatorIndex > range.lowerBound else { return nil }
        let op = tokens[operatorIndex].key
        let left = range.lowerBound..<operatorIndex
        var right = (operatorIndex + 1)..<range.upperBound
        var negated = false
        if op == "is", isWord(right.lowerBound, "not") {
            negated = true
            right = (right.lowerBound + 1)..<right.upperBound
        }
        if ["like", "ilike", "glob"].contains(op), let pattern = literal(right), case .text(let text) = pattern {
            let wildcard: Character = op == "glob" ? "*" : "%"
            return !text.isEmpty && text.allSatisfy { $0 == wildcard } ? true : nil
        }
        if let lhs = literal(left), let rhs = literal(right) {
            let result: Bool?
            switch op {
            case "is": result = lhs == rhs
            case "=", "==": result = lhs == .null || rhs == .null ? nil : lhs == rhs
            case "<>", "!=": result = lhs == .null || rhs == .null ? nil : lhs != rhs
            default: result = order(lhs, rhs).map { ordering in
                    switch op {
                    case "<": ordering < 0
                    case ">": ordering > 0
                    case "<=": ordering <= 0
                    default: ordering >= 0
                    }
                }
            }
            return result.map { negated ? !$0 : $0 }
        }
        // `id = id`: true for every row where id is not null.
        if ["=", "==", "<=", ">="].contains(op), !left.isEmpty, left.count == right.count,
           left.allSatisfy({ tokens[$0].isName || isSymbol($0, ".") }),
           zip(left, right).allSatisfy({ tokens[$0].kind == tokens[$1].kind && tokens[$0].key == tokens[$1].key }) {
            return true
        }
        return nil
    }

    private func order(_ lhs: Literal, _ rhs: Literal) -> Int? {
        switch (lhs, rhs) {
        case (.number(let a), .number(let b)): a < b ? -1 : (a > b ? 1 : 0)
        case (.text(let a), .text(let b)): a < b ? -1 : (a > b ? 1 : 0)
        default: nil
        }
    }

    // MARK: Results

    /// One entry per table, written when any use writes it.
    func distinctTables(_ tables: [SQLTableReference]) -> [SQLTableReference] {
        var result: [SQLTableReference] = []
        var positions: [String: Int] = [:]
        for table in tables {
            let key = comparable(table.schema ?? "") + "\u{1F}" + comparable(table.name)
            if let position = positions[key] {
                result[position].isWrite = result[position].isWrite || table.isWrite
            } else {
                positions[key] = result.count
                result.append(table)
            }
        }
        return result
    }

    /// Calls of side-effect functions: a name (maybe qualified or quoted) followed by `(`,
    /// except where the name is being defined (`CREATE FUNCTION nextval(…)`, `INSERT INTO edit (…)`).
    func sideEffectFunctions() -> [String] {
        var found: [String] = []
        for index in tokens.indices where tokens[index].isName && isSymbol(index + 1, "(") {
            var first = index
            while isSymbol(first - 1, "."), isName(first - 2) { first -= 2 }
            if let previous = word(first - 1), Self.definingWords.contains(previous) { continue }
            let schema = first < index ? tokens[index - 2].key : nil
            if let name = SQLSideEffectFunctions.match(tokens[index].key, schema: schema, dialect: dialect) {
                found.append(name)
            }
        }
        return found
    }

    private static let definingWords: Set<String> = [
        "into", "table", "view", "function", "procedure", "aggregate", "routine", "references", "exists",
    ]
    /// Words that cannot name a table where one is expected: what follows FROM is a clause, not a table.
    private static let notNames: Set<String> = [
        "select", "values", "with", "where", "group", "order", "limit", "on", "using", "set", "returning", "union", "except",
        "intersect", "natural", "left", "right", "inner", "full", "cross", "outer", "join", "as", "and", "or", "not", "null",
        "true", "false", "case", "when", "default", "having", "window", "offset", "fetch", "for", "into", "do", "then",
    ]
    /// Words before `(` that do not make it a function call.
    private static let notFunctions: Set<String> = [
        "from", "join", "in", "exists", "any", "all", "some", "as", "lateral", "using", "values", "on", "where", "and", "or",
        "not", "select", "with", "union", "intersect", "except", "when", "then", "else", "by", "having", "set", "returning",
        "is", "between", "like", "ilike", "case", "distinct", "array", "default", "check", "do", "into", "table", "recursive",
        "materialized", "return", "unique", "key",
    ]
    /// Clause keywords that end a FROM list.
    private static let fromListEnders: Set<String> = [
        "where", "group", "having", "order", "limit", "offset", "fetch", "window", "union", "intersect", "except",
        "returning", "set", "do", "when", "then", "into", "for",
    ]
}

// MARK: - Side-effect functions

/// Functions refused in every mode: their effects escape the database or the transaction.
///
/// Decisions: `pg_sleep` is allowed (no effect; statement time limits bound it); SQLite's
/// `sqlite_compileoption_used`/`_get` are allowed (they only report build options); PostgreSQL's
/// `query_to_xml`, `ts_stat`, `crosstab` and SQLite's `eval` are refused because they run SQL
/// passed as text, which the guard cannot see. User-defined functions are not known here:
/// the read-only transaction and the caller's database role stop what they might do.
enum SQLSideEffectFunctions {
    enum Effect: String, Sendable {
        case hostFiles = "reads or writes files on the database host"
        case largeObjects = "creates, changes or removes large objects, which live outside tables"
        case otherSessions = "signals or messages other sessions"
        case serverState = "changes server configuration, replication or maintenance state"
        case otherDatabases = "connects to another database"
        case hiddenSQL = "runs SQL passed as text, which the guard cannot inspect"
        case sequences = "advances or sets a sequence, which no rollback undoes"
        case locks = "takes advisory locks that outlive the statement"
        case transactionID = "assigns a transaction id, which writes"
        case nativeCode = "loads native code into the database process"
        case enginePointers = "exposes or replaces the engine's internal pointers"
        case externalProgram = "starts an external program"
    }

    private static let postgres: [String: Effect] = [
        "pg_stat_file": .hostFiles, "lo_import": .hostFiles, "lo_export": .hostFiles, "pg_logdir_ls": .hostFiles,
        "lo_create": .largeObjects, "lo_creat": .largeObjects, "lo_unlink": .largeObjects, "lo_from_bytea": .largeObjects,
        "lo_put": .largeObjects, "lo_truncate": .largeObjects, "lo_truncate64": .largeObjects, "lo_open": .largeObjects,
        "lowrite": .largeObjects,
        "pg_terminate_backend": .otherSessions, "pg_cancel_backend": .otherSessions, "pg_notify": .otherSessions,
        "pg_log_backend_memory_contexts": .otherSessions,
        "pg_reload_conf": .serverState, "pg_rotate_logfile": .serverState, "set_config": .serverState, "pg_promote": .serverState,
        "pg_start_backup": .serverState, "pg_stop_backup": .serverState, "pg_drop_replication_slot": .serverState,
        "pg_replication_slot_advance": .serverState, "pg_import_system_collations": .serverState,
        "pg_stat_statements_reset": .serverState, "pg_log_standby_snapshot": .serverState, "pg_sync_replication_slots": .serverState,
        "brin_desummarize_range": .serverState, "gin_clean_pending_list": .serverState, "pg_truncate_visibility_map": .serverState,
        "pg_xlog_replay_pause": .serverState, "pg_xlog_replay_resume": .serverState,
        "query_to_xml": .hiddenSQL, "query_to_xml_and_xmlschema": .hiddenSQL, "query_to_xmlschema": .hiddenSQL,
        "cursor_to_xml": .hiddenSQL, "cursor_to_xmlschema": .hiddenSQL, "ts_stat": .hiddenSQL,
        "nextval": .sequences, "setval": .sequences,
        "txid_current": .transactionID, "pg_current_xact_id": .transactionID,
    ]
    private static let postgresPrefixes: [(String, Effect)] = [
        ("pg_read_", .hostFiles), ("pg_ls_", .hostFiles), ("pg_file_", .hostFiles),
        ("pg_switch_", .serverState), ("pg_backup_", .serverState), ("pg_wal_replay_", .serverState), ("pg_create_", .serverState),
        ("pg_copy_", .serverState), ("pg_stat_reset", .serverState), ("pg_logical_", .serverState),
        ("pg_replication_origin_", .serverState), ("brin_summarize_", .serverState), ("binary_upgrade_", .serverState),
        ("dblink", .otherDatabases), ("crosstab", .hiddenSQL), ("pg_background_", .hiddenSQL),
        ("pg_advisory_", .locks), ("pg_try_advisory_", .locks),
    ]
    /// Functions of extensions that are only recognised with their schema.
    private static let postgresQualified: [String: Effect] = [
        "cron.schedule": .hiddenSQL, "cron.schedule_in_database": .hiddenSQL, "cron.alter_job": .hiddenSQL,
    ]
    private static let sqlite: [String: Effect] = [
        "load_extension": .nativeCode, "readfile": .hostFiles, "writefile": .hostFiles, "fsdir": .hostFiles,
        "zipfile": .hostFiles, "edit": .externalProgram, "fts3_tokenizer": .enginePointers, "eval": .hiddenSQL,
        "sha3_query": .hiddenSQL,
    ]

    /// What a function named by ``SQLClassification/sideEffectFunctions`` does.
    static func effect(ofFound name: String, dialect: SQLDialect) -> Effect? {
        if dialect == .postgresql, let qualified = postgresQualified[name] { return qualified }
        return effect(of: name, schema: nil, dialect: dialect)
    }

    /// The catalogue name of a side-effect function called `name` (lower-cased), or nil.
    static func match(_ name: String, schema: String?, dialect: SQLDialect) -> String? {
        effect(of: name, schema: schema, dialect: dialect) == nil ? nil : (qualifiedEntry(name, schema: schema, dialect: dialect) ?? name)
    }

    static func effect(of name: String, schema: String?, dialect: SQLDialect) -> Effect? {
        switch dialect {
        case .sqlite:
            return sqlite[name]
        case .postgresql:
            if let qualified = qualifiedEntry(name, schema: schema, dialect: dialect) { return postgresQualified[qualified] }
            if let effect = postgres[name] { return effect }
            return postgresPrefixes.first { name.hasPrefix($0.0) }?.1
        }
    }

    private static func qualifiedEntry(_ name: String, schema: String?, dialect: SQLDialect) -> String? {
        guard dialect == .postgresql, let schema else { return nil }
        let qualified = "\(schema).\(name)"
        return postgresQualified[qualified] == nil ? nil : qualified
    }
}
