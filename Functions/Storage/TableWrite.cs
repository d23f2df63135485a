using Azure;
using Azure.Data.Tables;

namespace Qhaigc.Functions.Storage;

/// <summary>How one row of a transaction is written.</summary>
public enum TableWriteKind
{
    /// <summary>Insert or replace, unconditionally.</summary>
    Upsert,

    /// <summary>Insert; the transaction fails with <c>409</c> when the row exists.</summary>
    Insert,

    /// <summary>Replace the row as it was at <see cref="TableWrite.IfMatch"/>; the transaction fails with <c>412</c> when it changed.</summary>
    Replace,
}

/// <summary>One row of an entity group transaction and how it is written.</summary>
public readonly record struct TableWrite(ITableEntity Row, TableWriteKind Kind, ETag IfMatch = default)
{
    public TableTransactionAction ToAction() => Kind switch
    {
        TableWriteKind.Insert => new TableTransactionAction(TableTransactionActionType.Add, Row),
        TableWriteKind.Replace => new TableTransactionAction(TableTransactionActionType.UpdateReplace, Row, IfMatch),
        _ => new TableTransactionAction(TableTransactionActionType.UpsertReplace, Row),
    };
}
