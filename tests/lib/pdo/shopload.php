<?php
// shopload.php — a PHP worker of the Django test shop (tests/lib/django),
// as a Laravel application would write it with PDO: each request is one
// transaction that reads a customer and a product, takes from the stock
// and creates an order with one item, on the database the switch file
// names. Errors are counted by kind as shopload.py counts them, and the
// summary has the same form (shopload.py phases / check read both).
//
// usage: php shopload.php --sqlite PATH --switch-file F --mysql-socket S
//            --mysql-db DB --out SUMMARY.json --stop-file F
//            [--duration S] [--rate 5] [--begin deferred|immediate]
//            [--timeout-ms 10000]
require __DIR__ . '/ImmediatePDO.php';

$o = getopt('', ['sqlite:', 'switch-file:', 'mysql-socket:', 'mysql-db:',
                 'out:', 'stop-file:', 'duration:', 'rate:', 'begin:',
                 'timeout-ms:']);
$rate = (float)($o['rate'] ?? 5);
$begin = $o['begin'] ?? 'deferred';
$timeout = (int)($o['timeout-ms'] ?? 10000);
$end = microtime(true) + (float)($o['duration'] ?? 3600);

function current_db(string $flag, string $was = 'default'): string
{
    $s = @file_get_contents($flag);
    if ($s === false) {
        return 'default';
    }
    $s = trim($s);
    return $s === 'mysql' ? 'mysql' : ($s === 'sqlite' ? 'default' : $was);
}

function connect(string $db, array $o, string $begin, int $timeout): PDO
{
    if ($db === 'mysql') {
        $pdo = new PDO("mysql:unix_socket={$o['mysql-socket']};dbname="
                       . "{$o['mysql-db']};charset=utf8mb4", 'root', '');
        $pdo->exec("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
        return $pdo;
    }
    $class = $begin === 'immediate' ? 'ImmediatePDO' : 'PDO';
    $pdo = new $class('sqlite:' . $o['sqlite']);
    $pdo->setAttribute(PDO::ATTR_TIMEOUT, intdiv($timeout, 1000));
    $pdo->exec("PRAGMA busy_timeout = $timeout");
    return $pdo;
}

function checkout(PDO $pdo, int $ncustomers, int $nproducts): array
{
    $pdo->beginTransaction();
    try {
        $q = $pdo->prepare('SELECT id FROM shop_customer WHERE id = ?');
        $q->execute([random_int(1, $ncustomers)]);
        $customer = (int)$q->fetchColumn();
        $q = $pdo->prepare('SELECT id, price FROM shop_product WHERE id = ?');
        $q->execute([random_int(1, $nproducts)]);
        [$product, $price] = $q->fetch(PDO::FETCH_NUM);
        $qty = random_int(1, 3);
        $pdo->prepare('UPDATE shop_product SET stock = stock - ? WHERE id = ?')
            ->execute([$qty, $product]);
        $total = sprintf('%.2f', $price * $qty);
        $pdo->prepare('INSERT INTO shop_order (customer_id, status, total, '
                      . 'note, created_at) VALUES (?, ?, ?, ?, ?)')
            ->execute([$customer, 'new', $total, 'checkout (php)',
                       gmdate('Y-m-d H:i:s') . '.000000']);
        $order = (int)$pdo->lastInsertId();
        $pdo->prepare('INSERT INTO shop_orderitem (order_id, product_id, '
                      . 'quantity, unit_price) VALUES (?, ?, ?, ?)')
            ->execute([$order, $product, $qty, $price]);
        $pdo->commit();
        return [$order, $total];
    } catch (Throwable $e) {
        if ($pdo->inTransaction()) {
            $pdo->rollBack();
        }
        throw $e;
    }
}

function kind(PDOException $e): string
{
    $m = $e->getMessage();
    if (str_contains($m, 'cutover: writes moved')) {
        return 'fence';
    }
    if (str_contains($m, 'database is locked')) {
        return 'locked';
    }
    if (($e->errorInfo[1] ?? 0) == 1213) {
        return 'deadlock';
    }
    return 'other';
}

$counts = ['requests' => 0, 'ok' => 0, 'locked' => 0, 'deadlock' => 0,
           'fence' => 0, 'other' => 0];
$acked = $errors = $samples = [];
$started = microtime(true);
$db = current_db($o['switch-file']);
$pdo = connect($db, $o, $begin, $timeout);
$ncustomers = (int)$pdo->query('SELECT count(*) FROM shop_customer')
    ->fetchColumn();
$nproducts = (int)$pdo->query('SELECT count(*) FROM shop_product')
    ->fetchColumn();
$next = microtime(true);
while (!file_exists($o['stop-file']) && microtime(true) < $end) {
    // independent arrivals (a Poisson process), as in shopload.py
    $next = max($next, microtime(true))
        - log(1.0 - mt_rand() / (mt_getrandmax() + 1)) / $rate;
    usleep((int)max(0, ($next - microtime(true)) * 1e6));
    $counts['requests']++;
    $retry_until = microtime(true) + 30;
    for (;;) {
        $now = current_db($o['switch-file'], $db);
        if ($now !== $db) {
            $db = $now;
            $pdo = connect($db, $o, $begin, $timeout);
        }
        try {
            [$id, $total] = checkout($pdo, $ncustomers, $nproducts);
            $acked[] = [$db, $id, $total];
            $counts['ok']++;
            break;
        } catch (PDOException $e) {
            $k = kind($e);
            $counts[$k]++;
            $errors[] = ['t' => microtime(true), 'kind' => $k, 'db' => $db,
                         'code' => $e->errorInfo[1] ?? null];
            if (($k === 'other' || $k === 'deadlock') && count($samples) < 5) {
                $samples[] = "$db: " . $e->getMessage();
            }
            if ($k !== 'fence' || microtime(true) > $retry_until) {
                break;
            }
            // the database moved: wait until the switch file names the
            // other one, then run the request again there
            while (current_db($o['switch-file'], $db) === $db
                   && microtime(true) < $retry_until) {
                usleep(5000);
            }
        }
    }
}
$acked_by_db = ['default' => 0, 'mysql' => 0];
foreach ($acked as $a) {
    $acked_by_db[$a[0]]++;
}
$summary = $counts + ['begin' => $begin, 'started_at' => $started,
    'ended_at' => microtime(true), 'workers' => 1, 'rate' => $rate,
    'acked_by_db' => $acked_by_db, 'other_samples' => $samples,
    'errors' => $errors, 'acked' => $acked];
file_put_contents($o['out'], json_encode($summary));
unset($summary['errors'], $summary['acked']);
echo json_encode($summary), "\n";
