<?php
// ImmediatePDO — PDO whose transactions begin with BEGIN IMMEDIATE on
// SQLite (PHP before 8.4, where PDO cannot be told the transaction mode).
//
// PDO::beginTransaction() sends a plain BEGIN: a deferred transaction
// that reads and then writes fails at once with "database is locked"
// when another connection committed after its read or holds the write
// lock, whatever the busy timeout. BEGIN IMMEDIATE takes the write lock
// first and waits on the busy timeout instead. PDO before 8.4 tracks the
// transaction itself, so commit and rollback follow it here.
//
// Laravel: a connector that makes this PDO, bound in a service provider's
// register():  $this->app->bind('db.connector.sqlite',
//                  ImmediateSQLiteConnector::class);
// (Laravel 12.26+ on PHP 8.4: 'transaction_mode' => 'IMMEDIATE'.)
class ImmediatePDO extends PDO
{
    private bool $inTransaction = false;

    public function beginTransaction(): bool
    {
        if ($this->inTransaction) {
            throw new PDOException('There is already an active transaction');
        }
        $this->exec('BEGIN IMMEDIATE');
        return $this->inTransaction = true;
    }

    public function commit(): bool
    {
        $this->exec('COMMIT');
        $this->inTransaction = false;
        return true;
    }

    public function rollBack(): bool
    {
        $this->inTransaction = false;
        $this->exec('ROLLBACK');
        return true;
    }

    public function inTransaction(): bool
    {
        return $this->inTransaction;
    }
}
