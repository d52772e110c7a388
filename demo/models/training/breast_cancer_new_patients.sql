-- Rows to score: no diagnosis column, columns in another order than in training (features match by name).
select
    patient_id, worst_radius, mean_radius, mean_texture, mean_perimeter, mean_area, mean_smoothness,
    mean_compactness, mean_concavity, mean_concave_points, mean_symmetry, mean_fractal_dimension,
    radius_error, texture_error, perimeter_error, area_error, smoothness_error, compactness_error,
    concavity_error, concave_points_error, symmetry_error, fractal_dimension_error, worst_texture,
    worst_perimeter, worst_area, worst_smoothness, worst_compactness, worst_concavity, worst_concave_points,
    worst_symmetry, worst_fractal_dimension
from {{ ref('breast_cancer') }}
where patient_id % 2 = 1
