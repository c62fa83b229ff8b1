"""manage.py shopwriter: the shop's web workers, for the tests.

  manage.py shopwriter run --record FILE [--rate N] [--seed N]
      writes until SIGTERM, then prints a JSON summary line
  manage.py shopwriter check --record FILE [--database ALIAS]
      every acknowledged row is in the database as it was acknowledged

Run with DJSHOP_SWITCH_FILE set (djshop/settings.py): both databases are
configured and the README's router (shop/cutover.py) sends every query to
the one the flag file names. Each request is one transaction.atomic() on
that database, as the README recommends; a request that meets cutover's
fence ("cutover: writes moved ...") changed nothing, so it waits until the
flag names the other database and runs again there. Inside each
transaction the rows it touched are read back; once the commit succeeds
(the write is acknowledged) they go to the record, one JSON line each.
"""
import datetime
import decimal
import json
import random
import signal
import sys
import time
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections, models, transaction

from shop.cutover import current_alias
from shop.models import Customer, Order, OrderItem, Product

MODELS = {m.__name__: m for m in (Customer, Product, Order, OrderItem)}
FENCE = "cutover: writes moved"


def normalized(model, row):
    """A row as both databases give it back: decimals at the field's
    scale, datetimes in ISO form, booleans as 0/1."""
    out = {}
    for field in model._meta.concrete_fields:
        v = row[field.attname]
        if isinstance(field, models.DecimalField) and v is not None:
            v = str(decimal.Decimal(v).quantize(
                decimal.Decimal(1).scaleb(-field.decimal_places)))
        elif isinstance(v, (datetime.datetime, datetime.date)):
            v = v.isoformat()
        elif isinstance(v, bool):
            v = int(v)
        out[field.attname] = v
    return out


class Shop:
    """The operations of the shop's requests, each on database `db`."""

    def __init__(self, seed):
        self.rand = random.Random(seed)
        self.serial = 0

    def pick(self, db, model):
        top = model.objects.using(db).aggregate(m=models.Max("id"))["m"]
        for _ in range(5):
            if not top:
                return None
            obj = model.objects.using(db).filter(
                id=self.rand.randint(1, top)).first()
            if obj:
                return obj
        return None

    def new_customer(self, db):
        self.serial += 1
        c = Customer.objects.using(db).create(
            name="Πελάτης %d" % self.serial,
            email="w%s@example.com" % uuid.uuid4().hex,
            is_active=True,
            joined_at=datetime.datetime.now(datetime.timezone.utc))
        return [(Customer, c.id)]

    def new_order(self, db):
        customer = self.pick(db, Customer)
        if not customer:
            return self.new_customer(db)
        items, total = [], decimal.Decimal(0)
        order = Order.objects.using(db).create(
            customer=customer, status="new", total=0, note="",
            created_at=datetime.datetime.now(datetime.timezone.utc))
        seen = set()
        for _ in range(self.rand.randint(1, 3)):
            product = self.pick(db, Product)
            if not product or product.id in seen:
                continue
            seen.add(product.id)
            price = decimal.Decimal(self.rand.randint(100, 9999)) / 100
            item = OrderItem.objects.using(db).create(
                order=order, product=product,
                quantity=self.rand.randint(1, 5), unit_price=price)
            items.append((OrderItem, item.id))
            total += price * item.quantity
        order.total = total
        order.save(using=db)
        return [(Order, order.id)] + items

    def pay_order(self, db):
        order = self.pick(db, Order)
        if not order:
            return []
        order.status = self.rand.choice(["paid", "shipped", "cancelled"])
        order.note = "updated %d" % self.rand.randrange(1000)
        order.save(using=db)
        return [(Order, order.id)]

    def restock(self, db):
        product = self.pick(db, Product)
        if not product:
            return []
        product.stock = self.rand.randint(0, 500)
        product.save(using=db)
        return [(Product, product.id)]

    def drop_item(self, db):
        item = self.pick(db, OrderItem)
        if not item:
            return []
        pk = item.id
        item.delete(using=db)
        return [(OrderItem, pk)]

    def request(self, db):
        op = self.rand.choices(
            [self.new_customer, self.new_order, self.pay_order, self.restock,
             self.drop_item], weights=[2, 4, 3, 2, 1])[0]
        touched = op(db)
        rows = []
        for model, pk in touched:
            row = model.objects.using(db).filter(id=pk).values().first()
            rows.append({"model": model.__name__, "id": pk,
                         "row": normalized(model, row) if row else None})
        return rows


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["run", "check"])
        parser.add_argument("--record", required=True)
        parser.add_argument("--rate", type=float, default=40)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--database", default="mysql")

    def handle(self, *args, **o):
        if o["action"] == "run":
            self.write(o)
        else:
            self.compare(o)

    def write(self, o):
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        shop = Shop(o["seed"])
        s = {"requests": 0, "acknowledged": 0, "switches": 0,
             "fence_hits": 0, "locked": 0, "deadlocks": 0, "other_errors": 0,
             "longest_stall_ms": 0, "backend": current_alias()}
        record = open(o["record"], "a")
        while not stop:
            db, started = current_alias(), time.monotonic()
            if db != s["backend"]:
                s["switches"] += 1
                s["backend"] = db
            s["requests"] += 1
            while True:
                try:
                    with transaction.atomic(using=db):
                        rows = shop.request(db)
                    break
                except DatabaseError as e:
                    text = str(e)
                    if FENCE in text:
                        s["fence_hits"] += 1
                        db = self.wait_for_switch(db)
                    elif "database is locked" in text:
                        s["locked"] += 1
                    elif "Deadlock" in text:
                        s["deadlocks"] += 1
                    else:
                        s["other_errors"] += 1
                        print("error: %s" % text, file=sys.stderr)
                        time.sleep(0.05)
                finally:
                    # the end of a request: Django closes its connections
                    # (CONN_MAX_AGE 0, the default)
                    close_old_connections()
            for row in rows:
                record.write(json.dumps(row, ensure_ascii=False) + "\n")
            record.flush()
            s["acknowledged"] += 1
            s["longest_stall_ms"] = max(s["longest_stall_ms"], round(
                (time.monotonic() - started) * 1000))
            time.sleep(1 / o["rate"])
        record.close()
        print(json.dumps(s))

    @staticmethod
    def wait_for_switch(db):
        """The fence: this database takes no more writes; the flag will
        name the other one."""
        deadline = time.monotonic() + 120
        while current_alias() == db:
            if time.monotonic() > deadline:
                raise CommandError("fenced on %s and no switch came" % db)
            time.sleep(0.01)
        return current_alias()

    def compare(self, o):
        want = {}
        for line in open(o["record"]):
            r = json.loads(line)
            want[(r["model"], r["id"])] = r["row"]
        bad = []
        for (name, pk), row in sorted(want.items()):
            model = MODELS[name]
            got = model.objects.using(o["database"]).filter(
                id=pk).values().first()
            got = normalized(model, got) if got else None
            if got != row:
                bad.append("%s %s: acknowledged %r, found %r" % (
                    name, pk, row, got))
        for line in bad[:20]:
            print(line, file=sys.stderr)
        print(json.dumps({"rows": len(want), "different": len(bad)}))
        if bad:
            raise CommandError("%d acknowledged rows missing or different"
                               % len(bad))
