"""The shop's checkout: what a web shop's busiest view does. One
transaction (shop.cutover.CutoverMiddleware): read a customer and a
product, take from the product's stock, create an order with one item."""
from django.db.models import F
from django.http import JsonResponse
from django.utils import timezone

from shop.cutover import current_alias
from shop.models import Customer, Order, OrderItem, Product


def checkout(request):
    customer = Customer.objects.get(pk=request.POST["customer"])
    product = Product.objects.get(pk=request.POST["product"])
    qty = int(request.POST["quantity"])
    # The stock row is locked before the order's foreign keys are checked:
    # two checkouts of one product queue on it rather than deadlocking on
    # MySQL.
    Product.objects.filter(pk=product.pk).update(stock=F("stock") - qty)
    order = Order.objects.create(customer=customer,
                                 total=product.price * qty, note="checkout",
                                 created_at=timezone.now())
    OrderItem.objects.create(order=order, product=product, quantity=qty,
                             unit_price=product.price)
    return JsonResponse({"db": current_alias(), "order": order.pk,
                         "total": str(order.total)})
