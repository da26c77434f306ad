-- The example application: TPC-H data baked into the image or reachable by URL, a report out.
create external table lineitem stored as parquet location '/data/tpch/lineitem/';
create external table orders stored as parquet location '/data/tpch/orders/';
select o_orderpriority, count(*) as orders, sum(l_extendedprice) as revenue
from orders join lineitem on l_orderkey = o_orderkey
group by o_orderpriority
order by o_orderpriority;
