-- Revenue report over TPC-H data: each nation's yearly revenue and its share of its region's
-- revenue that year, ranked within the region.
with revenue as (
    select
        r_name as region,
        n_name as nation,
        extract(year from o_orderdate) as year,
        sum(l_extendedprice * (1 - l_discount)) as revenue
    from lineitem
    join orders on l_orderkey = o_orderkey
    join customer on o_custkey = c_custkey
    join nation on c_nationkey = n_nationkey
    join region on n_regionkey = r_regionkey
    group by r_name, n_name, extract(year from o_orderdate)
)
select
    region,
    nation,
    cast(year as int) as year,
    revenue,
    round(100.0 * revenue / sum(revenue) over (partition by region, year), 2) as share_of_region_pct,
    rank() over (partition by region, year order by revenue desc) as rank_in_region
from revenue
order by region, year, rank_in_region;
